/**
 * Who a decision sent through Temporal names. Anyone who reaches the Web UI or the CLI can type
 * any name into a signal or update, so every workflow that takes one (key rotation's manual
 * steps, shipments and deliveries) asks here, through the one active-admin check
 * (src/access/admins.ts) the refund decisions use, and records the account it resolves to.
 */
import { findActiveAdmin } from '../access/admins';
import type { PrismaClient } from '../platform/db';

export function adminActivities(prisma: PrismaClient) {
  return {
    /** The ACTIVE admin `named` (a user id, or an email in any case) names; null for anyone else. */
    async resolveActiveAdmin(input: { named: string }): Promise<{ id: string; email: string } | null> {
      return (await findActiveAdmin(prisma, input.named)) ?? null;
    },
  };
}
