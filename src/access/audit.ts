import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../platform/db';
import type { Prisma } from '../generated/prisma/client';

export interface AuditEntry {
  /** Given for an action a client may retry: the entry is written once per id. */
  id?: string;
  actorId: string;
  action: string;
  targetType: string;
  targetId?: string;
  reason?: string;
  before?: unknown;
  after?: unknown;
}

/** Records who did what to what, why, and what it looked like before and after. */
export async function audit(prisma: Pick<PrismaClient, 'auditLog'>, entry: AuditEntry): Promise<void> {
  await prisma.auditLog.createMany({
    data: [
      {
        ...entry,
        id: entry.id ?? randomUUID(),
        before: entry.before === undefined ? undefined : (entry.before as Prisma.InputJsonValue),
        after: entry.after === undefined ? undefined : (entry.after as Prisma.InputJsonValue),
      },
    ],
    skipDuplicates: true, // ON CONFLICT (id) DO NOTHING
  });
}
