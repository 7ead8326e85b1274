/**
 * Who a decision sent through Temporal names. Anyone who reaches the Web UI or the CLI can type
 * any name into a signal or update, so every workflow that takes one (key rotation's manual
 * steps, shipments and deliveries) asks here, through the one active-admin check
 * (src/access/admins.ts) the refund decisions use, and records the account it resolves to.
 */
import { findActiveAdmin } from '../access/admins';
import type { AdminRequest, RequestSeals } from '../access/request-seals';
import type { PrismaClient } from '../platform/db';

/** A checked admin request: the account it is recorded under and how it came, or why it is refused. */
export type AdminRequestCheck = { adminId: string; via: 'api' | 'temporal' } | { refused: string };

export function adminActivities(prisma: PrismaClient, seals: RequestSeals) {
  return {
    /** The ACTIVE admin `named` (a user id, or an email in any case) names; null for anyone else. */
    async resolveActiveAdmin(input: { named: string }): Promise<{ id: string; email: string } | null> {
      return (await findActiveAdmin(prisma, input.named)) ?? null;
    },

    /**
     * An admin's update `name` to `workflowId` (ship, deliver): it must name an active admin, by id
     * or email, whichever way it came; it came through the API only if it carries the API's seal.
     */
    async checkAdminRequest(input: {
      workflowId: string;
      name: string;
      request: AdminRequest;
    }): Promise<AdminRequestCheck> {
      const named = String(input.request?.actor?.id ?? '');
      const admin = input.request?.actor?.role === 'ADMIN' ? await findActiveAdmin(prisma, named) : undefined;
      if (!admin) return { refused: `${named || '(nobody)'} is not an active admin` };
      return { adminId: admin.id, via: seals.verify(input.workflowId, input.name, input.request) ? 'api' : 'temporal' };
    },
  };
}
