/**
 * Inventory workflow steps (the reset's snapshot, apply, verify and rollback): each calls the
 * one implementation in src/inventory and turns its refusals into non-retryable failures.
 */
import type { PrismaClient } from '../platform/db';
import { refusing } from '../platform/errors';
import { applyReset, rollbackReset, snapshotReset, verifyReset } from '../inventory/resets';

export function inventoryActivities(prisma: PrismaClient) {
  return {
    async snapshotInventoryReset(input: { resetId: string }): Promise<void> {
      await refusing(() => snapshotReset(prisma, input.resetId));
    },
    async applyInventoryReset(input: { resetId: string }): Promise<void> {
      await refusing(() => applyReset(prisma, input.resetId));
    },
    async verifyInventoryReset(input: { resetId: string }) {
      return refusing(() => verifyReset(prisma, input.resetId));
    },
    async rollbackInventoryReset(input: { resetId: string; actorId: string; reason: string }) {
      return refusing(() => rollbackReset(prisma, input));
    },
  };
}
