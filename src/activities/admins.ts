/**
 * Who a decision sent through Temporal names. Anyone who reaches the Web UI or the CLI can type
 * any name into a signal or update, so every workflow that takes one (refund decisions, key
 * rotation's manual steps, shipments and deliveries) asks one activity, activeAdminNamed: the
 * active admin the request names, by id or email (src/access/admins.ts), and, for an update,
 * whether it carries the API's seal (src/access/request-seals.ts). The workflow records the
 * account it resolves to, and audits a request without the seal as sent through Temporal.
 */
import { findActiveAdmin } from '../access/admins';
import { adminNamedBy, type AdminRequest, type RequestSeals, type SealedRequest } from '../access/request-seals';
import type { PrismaClient } from '../platform/db';

/** Who a request names: a signal's name as typed, or an update as it was sent to its workflow. */
export type AdminNaming = { named: string } | { workflowId: string; update: string; request: SealedRequest };

/**
 * The active admin a request names (null for anyone else), and how it came: `api` only for an
 * update carrying the API's seal over exactly this workflow, update and content.
 */
export interface ActiveAdminAnswer {
  admin: { id: string; email: string } | null;
  via: 'api' | 'temporal';
}

/** A checked admin request: the account it is recorded under and how it came, or why it is refused. */
export type AdminRequestCheck = { adminId: string; via: 'api' | 'temporal' } | { refused: string };

export function adminActivities(prisma: PrismaClient, seals: RequestSeals) {
  async function activeAdminNamed(input: AdminNaming): Promise<ActiveAdminAnswer> {
    const named = 'request' in input ? adminNamedBy(input.request) : input.named;
    const admin = (await findActiveAdmin(prisma, named)) ?? null;
    const sealed = 'request' in input && seals.verify(input.workflowId, input.update, input.request);
    return { admin, via: sealed ? 'api' : 'temporal' };
  }

  return {
    /** The active admin a signal or update names, by user id or email, and whether the API sent it. */
    activeAdminNamed,

    // ---- Deprecated: replay and in-flight compatibility ---------------------------------------
    // The names workflows scheduled before the one-active-admin-check patch (refund, order and
    // key-rotation patches.ts). Workflows running the new code schedule activeAdminNamed only;
    // one that was scheduled before the deploy and is still pending is run under its old name.
    // Remove these four, their entries in src/workflows/policies.ts and the old branches (with
    // deprecatePatch) once no refund, order or key-rotation workflow started before the patch
    // is still open.

    /** @deprecated Refund decisions before the patch: use activeAdminNamed. */
    async isAdmin(input: { refundId: string; userId: string }): Promise<boolean> {
      return (await activeAdminNamed({ named: input.userId })).admin !== null;
    },

    /** @deprecated Key rotation's manual steps before manual-step-records-resolved-admin: use activeAdminNamed. */
    async isActiveAdmin(input: { userId: string }): Promise<boolean> {
      return (await activeAdminNamed({ named: input.userId })).admin !== null;
    },

    /** @deprecated Key rotation's manual steps before the patch: use activeAdminNamed. */
    async resolveActiveAdmin(input: { named: string }): Promise<{ id: string; email: string } | null> {
      return (await activeAdminNamed({ named: input.named })).admin;
    },

    /** @deprecated Shipments and deliveries before the patch: use activeAdminNamed. */
    async checkAdminRequest(input: {
      workflowId: string;
      name: string;
      request: AdminRequest;
    }): Promise<AdminRequestCheck> {
      const answer = await activeAdminNamed({
        workflowId: input.workflowId,
        update: input.name,
        request: input.request,
      });
      const named = String(input.request?.actor?.id ?? '');
      if (!answer.admin) return { refused: `${named || '(nobody)'} is not an active admin` };
      return { adminId: answer.admin.id, via: answer.via };
    },
  };
}
