import type { PrismaClient } from '../platform/db';

/**
 * Whether `userId` names an admin who may act now: role ADMIN and not suspended. Decisions and
 * confirmations sent from the Temporal Web UI name their admin by id, and anyone can type anything there.
 */
export async function isActiveAdmin(prisma: PrismaClient, userId: string): Promise<boolean> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(userId)) return false;
  return (await prisma.user.count({ where: { id: userId, role: 'ADMIN', status: 'ACTIVE' } })) > 0;
}
