/**
 * Who an admin decision names. Decisions and confirmations sent through Temporal (the Web UI's
 * "Send a Signal", the CLI) name their admin by user id or by email, and anyone who can reach
 * Temporal can type anything there: only an ACTIVE account with role ADMIN counts.
 */
import type { PrismaClient } from '../platform/db';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The active admin that `idOrEmail` names (a user id, or an email in any case), if any. */
export async function findActiveAdmin(
  prisma: Pick<PrismaClient, 'user'>,
  idOrEmail: string,
): Promise<{ id: string; email: string } | undefined> {
  const value = String(idOrEmail ?? '').trim();
  if (!value || value.length > 320) return undefined;
  const where = UUID.test(value) ? { id: value } : value.includes('@') ? { email: value.toLowerCase() } : undefined;
  if (!where) return undefined;
  const user = await prisma.user.findFirst({
    where: { ...where, role: 'ADMIN', status: 'ACTIVE' },
    select: { id: true, email: true },
  });
  return user ?? undefined;
}

/** Whether `idOrEmail` names an admin who may act now: role ADMIN and not suspended. */
export async function isActiveAdmin(prisma: Pick<PrismaClient, 'user'>, idOrEmail: string): Promise<boolean> {
  return (await findActiveAdmin(prisma, idOrEmail)) !== undefined;
}
