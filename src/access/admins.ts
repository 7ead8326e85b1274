/**
 * Who an admin decision names. Decisions and confirmations sent through Temporal (the Web UI's
 * "Send a Signal", the CLI) name their admin by user id or by email, and anyone who can reach
 * Temporal can type anything there: only an ACTIVE account with role ADMIN counts. The same rule
 * decides who is emailed about what needs a person, and who may run the ops CLI.
 */
import type { PrismaClient } from '../platform/db';
import { DomainError } from '../platform/errors';
import { ErrorCode } from '../workflows/vocabulary';

/** An admin who may act now: role ADMIN and not suspended. */
const ACTIVE_ADMIN = { role: 'ADMIN', status: 'ACTIVE' } as const;

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
    where: { ...where, ...ACTIVE_ADMIN },
    select: { id: true, email: true },
  });
  return user ?? undefined;
}

/** The email addresses of every admin who may act now: who is told about what needs a person. */
export async function activeAdminEmails(prisma: Pick<PrismaClient, 'user'>): Promise<string[]> {
  const admins = await prisma.user.findMany({ where: ACTIVE_ADMIN, select: { email: true } });
  return admins.map((a) => a.email);
}

/**
 * The id of the admin an operator names by email to act through the ops CLI; refused (FORBIDDEN)
 * when the account is not an admin or is suspended.
 */
export async function actingAdminId(prisma: Pick<PrismaClient, 'user'>, email: string): Promise<string> {
  const actor = await prisma.user.findUnique({ where: { email: email.trim().toLowerCase() } });
  if (actor?.role !== 'ADMIN') throw new DomainError(ErrorCode.FORBIDDEN, `${email} is not an admin`);
  if (actor.status !== 'ACTIVE')
    throw new DomainError(
      ErrorCode.FORBIDDEN,
      `${email} is ${actor.status.toLowerCase()}: a suspended admin may not act`,
    );
  return actor.id;
}
