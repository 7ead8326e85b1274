/**
 * Creating an account, for the runbook's "Creating Admin User" (which was an INSERT with a
 * hand-made bcrypt hash): through the admin API or the ops CLI, with a reason, audited. The
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
