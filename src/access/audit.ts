/**
 * The audit log: who did what to what, why, and what it looked like before and after. Every admin
 * action writes its entry through `audit` (in the action's own transaction where it has one), and
 * the admin API and the ops CLI read it through `auditEntries`.
 */
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

export interface AuditFilter {
  actor?: string;
  action?: string;
  targetId?: string;
  from?: Date;
  to?: Date;
  limit: number;
}

/** Entries matching the filter, newest first. */
export async function auditEntries(prisma: Pick<PrismaClient, 'auditLog'>, filter: AuditFilter) {
  return prisma.auditLog.findMany({
    where: {
      actorId: filter.actor,
      action: filter.action,
      targetId: filter.targetId,
      createdAt: { gte: filter.from, lte: filter.to },
    },
    orderBy: { createdAt: 'desc' },
    take: filter.limit,
  });
}
