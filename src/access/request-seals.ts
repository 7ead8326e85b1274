/**
 * Which admin requests came through the API. An update a workflow receives looks the same whether
 * the API sent it for a signed-in admin or someone typed it into the Temporal Web UI or CLI. The
 * API seals what it sends (HMAC-SHA256 under the master key's `api-request` subkey, over the
 * workflow, the update and every field that matters), and the one activity that checks who a
 * request names (activeAdminNamed, src/activities/admins.ts) verifies the seal: a request
 * without a valid one was sent through Temporal and is audited so. Nobody without the master key
 * can make a seal; one seen in a history fits only its own request.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseMasterKeys } from '../platform/codec';
import type { Config } from '../platform/config';
import { associatedData, Subkeys } from '../platform/subkeys';
import type { Actor } from '../workflows/vocabulary';

/** An admin's request to a workflow (ship, deliver): who sends it and what it says. */
export interface AdminRequest {
  actor: Actor;
  trackingNumber?: string;
  carrier?: string;
  apiSeal?: string;
}

/** An admin's decision sent to a workflow (approve or reject a refund, release or cancel a held one). */
export interface AdminDecision {
  adminId: string;
  reason: string;
  release?: boolean;
  apiSeal?: string;
}

/** An admin's confirmation that a key rotation's manual step is done at the provider. */
export interface ManualStepRequest {
  stepId: string;
  adminId: string;
  note?: string;
  apiSeal?: string;
}

/** Any kind of request the API seals. */
export type SealedRequest = AdminRequest | AdminDecision | ManualStepRequest;

/**
 * Who `request` names as its admin, as typed (a user id or an email): a request that says its
 * actor is anything but an admin names nobody.
 */
export function adminNamedBy(request: SealedRequest | undefined): string {
  if (request && 'actor' in request) return request.actor?.role === 'ADMIN' ? String(request.actor.id ?? '') : '';
  return String(request?.adminId ?? '');
}

/** What the seal covers of `request`, besides the workflow and the update. */
function sealedFields(request: SealedRequest): string[] {
  if ('actor' in request)
    return [
      String(request.actor?.id ?? ''),
      String(request.actor?.role ?? ''),
      request.trackingNumber ?? '',
      request.carrier ?? '',
    ];
  if ('stepId' in request)
    return ['manual-step', String(request.stepId ?? ''), String(request.adminId ?? ''), String(request.note ?? '')];
  return ['decision', String(request.adminId ?? ''), String(request.reason ?? ''), String(request.release ?? '')];
}

export class RequestSeals {
  private readonly subkeys: Subkeys;
  constructor(
    masterKeys: Map<string, Buffer>,
    private readonly currentKeyId: string,
  ) {
    this.subkeys = new Subkeys(masterKeys);
  }

  static fromConfig(config: Pick<Config, 'MASTER_KEYS' | 'MASTER_KEY_ID'>): RequestSeals {
    return new RequestSeals(parseMasterKeys(config), config.MASTER_KEY_ID);
  }

  /** The seal the API puts on `request` as it sends it as update `name` to `workflowId`. */
  seal(workflowId: string, name: string, request: SealedRequest): string {
    return `${this.currentKeyId}.${this.mac(this.currentKeyId, workflowId, name, request)!}`;
  }

  /** Whether `request` carries the API's seal for exactly this workflow, update and content. */
  verify(workflowId: string, name: string, request: SealedRequest): boolean {
    const [keyId, mac, extra] = String(request?.apiSeal ?? '').split('.');
    if (!keyId || !mac || extra !== undefined) return false;
    const expected = this.mac(keyId, workflowId, name, request);
    if (!expected) return false;
    const [a, b] = [Buffer.from(mac), Buffer.from(expected)];
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private mac(keyId: string, workflowId: string, name: string, request: SealedRequest): string | undefined {
    const key = this.subkeys.of(keyId, 'api-request');
    if (!key) return undefined;
    const fields = [keyId, workflowId, name, ...sealedFields(request)];
    return createHmac('sha256', key)
      .update(associatedData('api-request', ...fields))
      .digest('base64url');
  }
}
