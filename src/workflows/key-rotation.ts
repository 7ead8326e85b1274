/**
 * One workflow per key rotation (`key-rotation-<purpose>-<rotationId>`), replacing the runbook's
 * rotate-keys script: stage a new key, verify it, promote it (new tokens carry its kid), keep
 * accepting the old key for a grace period no shorter than a token's lifetime, then retire it.
 * With `revokeSessions`, every session ends at once and everyone signs in again.
 * Every step is audited; only key ids, never key material, pass through this workflow.
 */
import { ActivityFailure, defineQuery, proxyActivities, setCurrentDetails, setHandler, sleep, uuid4, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { Actor } from './messages';

const steps = proxyActivities<Activities>({ startToCloseTimeout: '30s', retry: { initialInterval: '1s', maximumInterval: '30s' } });
// A key that fails verification is rolled back after a few tries, not retried for ever.
const verification = proxyActivities<Activities>({ startToCloseTimeout: '30s', retry: { initialInterval: '1s', maximumAttempts: 3 } });

export interface KeyRotationInput {
  purpose: 'JWT_SIGNING';
  requestedBy: Actor;
  reason: string;
  revokeSessions: boolean;
  /** How long the old key is still accepted; the caller makes it at least the token lifetime. */
  graceMs: number;
}

export interface KeyRotationView {
  rotationId: string;
  purpose: string;
  step: 'STAGING' | 'VERIFYING' | 'PROMOTED' | 'GRACE' | 'DONE' | 'ROLLED_BACK';
  newKid?: string;
  oldKid?: string;
  oldKeyAcceptedUntil?: string;
  sessionsRevoked?: number;
  failure?: string;
}

export const getKeyRotationQuery = defineQuery<KeyRotationView>('getKeyRotation');

export async function keyRotationWorkflow(input: KeyRotationInput): Promise<KeyRotationView> {
  const rotationId = workflowInfo().workflowId;
  const view: KeyRotationView = { rotationId, purpose: input.purpose, step: 'STAGING' };
  setHandler(getKeyRotationQuery, () => view, { description: 'Where the rotation stands: step, new and old key ids, grace end.' });
  const show = (details: string) => setCurrentDetails(`${input.purpose}: ${details}`);
  const auditStep = (action: string, after?: Record<string, unknown>) =>
    steps.auditKeyStep({ actorId: input.requestedBy.id, action, rotationId, reason: input.reason, after });

  // 1. Stage a new key.
  const staged = await steps.stageKey({ purpose: input.purpose, versionId: uuid4() });
  view.newKid = staged.kid;
  await auditStep('KEY_STAGED', { kid: staged.kid });

  // 2. Verify it before anyone depends on it; a key that fails is never used.
  view.step = 'VERIFYING';
  show(`verifying ${staged.kid}`);
  try {
    await verification.verifyKey({ purpose: input.purpose, kid: staged.kid });
  } catch (error) {
    view.step = 'ROLLED_BACK';
    view.failure = (error instanceof ActivityFailure ? error.cause?.message : undefined) ?? String(error);
    await steps.retireKey({ kid: staged.kid });
    await auditStep('KEY_ROTATION_ROLLED_BACK', { kid: staged.kid, failure: view.failure });
    show(`rolled back: ${view.failure}; the old key stays active`);
    return view;
  }

  // 3. Promote it: new tokens carry its kid; the old key is still accepted during the grace.
  const promoted = await steps.promoteKey({ purpose: input.purpose, kid: staged.kid, graceMs: input.graceMs });
  view.step = 'PROMOTED';
  view.oldKid = promoted.retiringKid;
  view.oldKeyAcceptedUntil = promoted.retiringUntil;
  await auditStep('KEY_PROMOTED', { kid: staged.kid, retiringKid: promoted.retiringKid, retiringUntil: promoted.retiringUntil });
  if (input.revokeSessions) {
    const { revoked } = await steps.revokeAllSessions({ reason: `key rotation ${rotationId}` });
    view.sessionsRevoked = revoked;
    await auditStep('SESSIONS_REVOKED', { revoked });
  }

  // 4. Wait out the grace, then retire the old key.
  if (promoted.retiringKid) {
    view.step = 'GRACE';
    show(`${staged.kid} active; ${promoted.retiringKid} accepted until ${promoted.retiringUntil}`);
    await sleep(input.graceMs);
    await steps.retireKey({ kid: promoted.retiringKid });
    await auditStep('KEY_RETIRED', { kid: promoted.retiringKid });
  }
  view.step = 'DONE';
  show(`${staged.kid} active`);
  return view;
}
