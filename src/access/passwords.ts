/**
 * Passwords: the policy every new one meets, a user changing their own (with the current one),
 * and an admin resetting someone else's (audited with a reason; every session of that user
 * ends, so whoever knew the old password is signed out). bcrypt reads only the first 72 bytes
 * of a password, so the policy caps passwords at 72 bytes (UTF-8) rather than pre-hashing: no
 * new password is ever silently truncated, and hashes stay plain bcrypt that any tool can check.
 * Sign-in still accepts longer input, so accounts made before the cap keep working.
 */
import bcrypt from 'bcryptjs';
import { z } from 'zod';
import { DomainError } from '../platform/errors';
import { ErrorCode } from '../workflows/vocabulary';
import { audit } from './audit';
import type { PrismaClient } from '../platform/db';

/** bcrypt's limit: bytes past it are ignored by the hash. */
export const BCRYPT_MAX_BYTES = 72;

/** A new password: long enough that a guess within the sign-in limits is hopeless, short enough that bcrypt reads all of it. */
export const passwordPolicy = z
  .string()
  .min(12)
  .refine((password) => Buffer.byteLength(password, 'utf8') <= BCRYPT_MAX_BYTES, {
    message: `at most ${BCRYPT_MAX_BYTES} bytes (UTF-8): bcrypt ignores anything longer`,
  });

export const hashPassword = (password: string) => bcrypt.hash(password, 10);

/**
 * The user's own change: the current password must be right. Every other session of theirs
 * ends; the one making the change goes on. Answers how many sessions ended.
 */
export async function changeOwnPassword(
  prisma: PrismaClient,
  input: { userId: string; sessionId: string; currentPassword: string; newPassword: string },
): Promise<{ sessionsRevoked: number }> {
  const user = await prisma.user.findUnique({ where: { id: input.userId } });
  if (!user || !(await bcrypt.compare(input.currentPassword, user.passwordHash)))
    throw new DomainError(ErrorCode.WRONG_PASSWORD, 'The current password is wrong');
  if (input.currentPassword === input.newPassword)
    throw new DomainError(ErrorCode.PASSWORD_UNCHANGED, 'The new password must differ from the current one');
  const passwordHash = await hashPassword(input.newPassword);
  return prisma.$transaction(async (tx) => {
    await tx.user.update({ where: { id: user.id }, data: { passwordHash } });
    const revoked = await tx.session.updateMany({
      where: { userId: user.id, revokedAt: null, id: { not: input.sessionId } },
      data: { revokedAt: new Date(), revokeReason: 'password changed' },
    });
    await audit(tx, {
      actorId: user.id,
      action: 'PASSWORD_CHANGED',
      targetType: 'user',
      targetId: user.id,
      after: { sessionsRevoked: revoked.count },
    });
    return { sessionsRevoked: revoked.count };
  });
}

/** An admin sets a new password for another user: audited with the reason, and every session of that user ends. */
export async function resetPassword(
  prisma: PrismaClient,
  input: { userId: string; password: string; reason: string; actorId: string },
): Promise<{ sessionsRevoked: number }> {
  const passwordHash = await hashPassword(input.password);
  return prisma.$transaction(async (tx) => {
    await tx.user.update({ where: { id: input.userId }, data: { passwordHash } });
    const revoked = await tx.session.updateMany({
      where: { userId: input.userId, revokedAt: null },
      data: { revokedAt: new Date(), revokeReason: `password reset: ${input.reason}` },
    });
    await audit(tx, {
      actorId: input.actorId,
      action: 'USER_PASSWORD_RESET',
      targetType: 'user',
      targetId: input.userId,
      reason: input.reason,
      after: { sessionsRevoked: revoked.count },
    });
    return { sessionsRevoked: revoked.count };
  });
}
