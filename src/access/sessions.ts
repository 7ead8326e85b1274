/**
 * Ending sessions wholesale: after a JWT signing key rotation that asks for it, every session
 * ends at once and everyone signs in again, under the new key. (A user's own sessions end with a
 * suspension or a password change, in users.ts and passwords.ts, inside those actions' transactions.)
 */
import type { PrismaClient } from '../platform/db';

export async function revokeAllSessions(prisma: PrismaClient, reason: string): Promise<{ revoked: number }> {
  const { count } = await prisma.session.updateMany({
    where: { revokedAt: null },
    data: { revokedAt: new Date(), revokeReason: reason },
  });
  return { revoked: count };
}
