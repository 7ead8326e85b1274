/**
 * Accounts and their access, one implementation each for the admin API and the ops CLI: creating
 * an account (the runbook's "Creating Admin User", which was an INSERT with a hand-made bcrypt
 * hash), and the runbook's "User Access Management": suspend (every session revoked at once),
 * restore, change role. Each takes an admin and a reason and is audited in its transaction. The
 * CLI may create the first admin of a new deployment without an acting admin: only while no
 * admin account has ever been made (a suspended one counts), decided under a lock, and recorded
 * with the operating-system user and host that ran it.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { DomainError } from '../platform/errors';
import { ErrorCode } from '../workflows/vocabulary';
import { audit } from './audit';
import { hashPassword, passwordPolicy } from './passwords';
import { isUniqueViolation, type PrismaClient } from '../platform/db';

export const newUserBody = z.object({
  email: z.string().trim().toLowerCase().pipe(z.email().max(320)),
  name: z.string().trim().min(1).max(200),
  role: z.enum(['CUSTOMER', 'ADMIN']).default('CUSTOMER'),
  // The initial password, under the password policy (at least 12 characters, at most bcrypt's 72 bytes).
  password: passwordPolicy,
  reason: z.string().trim().min(1).max(500),
});
export type NewUser = z.infer<typeof newUserBody>;

/** The actor recorded for the first admin of a deployment, created from the CLI before any admin exists. */
export const BOOTSTRAP_ACTOR = 'bootstrap';

export async function createAccount(
  prisma: PrismaClient,
  input: NewUser,
  actor: string | { bootstrap: { ranBy: string } },
) {
  const passwordHash = await hashPassword(input.password);
  try {
    return await prisma.$transaction(async (tx) => {
      let actorId: string;
      let ranBy: string | undefined;
      if (typeof actor === 'string') actorId = actor;
      else {
        // Two bootstraps at once: the lock makes the second see the first one's admin.
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('bootstrap-admin'))`;
        if (input.role !== 'ADMIN' || (await tx.user.count({ where: { role: 'ADMIN' } })) > 0) {
          throw new DomainError(
            ErrorCode.BOOTSTRAP_CLOSED,
            'Only the first admin of a deployment is created without an acting admin',
          );
        }
        [actorId, ranBy] = [BOOTSTRAP_ACTOR, actor.bootstrap.ranBy];
      }
      const user = await tx.user.create({
        data: { id: randomUUID(), email: input.email, name: input.name, role: input.role, passwordHash },
      });
      const created = { userId: user.id, email: user.email, name: user.name, role: user.role, status: user.status };
      await audit(tx, {
        actorId,
        action: 'USER_CREATED',
        targetType: 'user',
        targetId: user.id,
        reason: input.reason,
        after: { role: user.role, status: user.status, ...(ranBy ? { ranBy } : {}) },
      });
      return created;
    });
  } catch (error) {
    if (isUniqueViolation(error))
      throw new DomainError(ErrorCode.EMAIL_TAKEN, `An account for ${input.email} exists already`);
    throw error;
  }
}

/** No admin account yet (a suspended one counts): the only moment an admin may be created without one. */
export async function hasNoAdmin(prisma: PrismaClient): Promise<boolean> {
  return (await prisma.user.count({ where: { role: 'ADMIN' } })) === 0;
}

/** A user's access as the audit log records it before and after a change. */
function accessOf(user: { status: string; role: string; suspensionReason: string | null }) {
  return { status: user.status, role: user.role, suspensionReason: user.suspensionReason };
}

export interface AccessChange {
  userId: string;
  reason: string;
  /** The admin making the change. */
  actorId: string;
}

/**
 * The user an admin changes the access of: USER_NOT_FOUND when there is none; SELF_ACTION for the
 * admin's own account (no lock-outs by accident).
 */
export async function userToChange(prisma: Pick<PrismaClient, 'user'>, userId: string, actorId: string) {
  if (userId === actorId) throw new DomainError(ErrorCode.SELF_ACTION, 'Admins cannot change their own access');
  const user = await prisma.user.findUnique({ where: { id: userId } });
  if (!user) throw new DomainError(ErrorCode.USER_NOT_FOUND, `No user ${userId}`);
  return user;
}

/** The id of the user an operator names by id or email (the CLI's way of naming one). */
export async function userIdOf(prisma: Pick<PrismaClient, 'user'>, idOrEmail: string): Promise<string> {
  const value = idOrEmail.trim();
  const user = await prisma.user.findFirst({
    where: z.uuid().safeParse(value).success ? { id: value } : { email: value.toLowerCase() },
    select: { id: true },
  });
  if (!user) throw new DomainError(ErrorCode.USER_NOT_FOUND, `No user ${value}`);
  return user.id;
}

/** Suspends the account: its tokens are refused at once, since every session is revoked with it. */
export async function suspendUser(prisma: PrismaClient, change: AccessChange) {
  const user = await userToChange(prisma, change.userId, change.actorId);
  return prisma.$transaction(async (tx) => {
    const updated = await tx.user.update({
      where: { id: user.id },
      data: { status: 'SUSPENDED', suspendedAt: new Date(), suspensionReason: change.reason },
    });
    const revoked = await tx.session.updateMany({
      where: { userId: user.id, revokedAt: null },
      data: { revokedAt: new Date(), revokeReason: `suspended: ${change.reason}` },
    });
    const after = { ...accessOf(updated), sessionsRevoked: revoked.count };
    await audit(tx, {
      actorId: change.actorId,
      action: 'USER_SUSPENDED',
      targetType: 'user',
      targetId: user.id,
      reason: change.reason,
      before: accessOf(user),
      after,
    });
    return { userId: user.id, ...after };
  });
}

/** Lifts a suspension: the user may sign in again (revoked sessions stay revoked). */
export async function restoreUser(prisma: PrismaClient, change: AccessChange) {
  const user = await userToChange(prisma, change.userId, change.actorId);
  return prisma.$transaction(async (tx) => {
    const restored = await tx.user.update({
      where: { id: user.id },
      data: { status: 'ACTIVE', suspendedAt: null, suspensionReason: null },
    });
    await audit(tx, {
      actorId: change.actorId,
      action: 'USER_RESTORED',
      targetType: 'user',
      targetId: user.id,
      reason: change.reason,
      before: accessOf(user),
      after: accessOf(restored),
    });
    return { userId: user.id, ...accessOf(restored) };
  });
}

/** Makes the user a CUSTOMER or an ADMIN. */
export async function changeRole(prisma: PrismaClient, change: AccessChange & { role: 'CUSTOMER' | 'ADMIN' }) {
  const user = await userToChange(prisma, change.userId, change.actorId);
  return prisma.$transaction(async (tx) => {
    const changed = await tx.user.update({ where: { id: user.id }, data: { role: change.role } });
    await audit(tx, {
      actorId: change.actorId,
      action: 'USER_ROLE_CHANGED',
      targetType: 'user',
      targetId: user.id,
      reason: change.reason,
      before: accessOf(user),
      after: accessOf(changed),
    });
    return { userId: user.id, ...accessOf(changed) };
  });
}
