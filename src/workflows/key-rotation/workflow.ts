/**
 * One workflow per key rotation (`key-rotation-<purpose>-<rotationId>`), replacing the runbook's
 * "Rotate API Keys" script:
 *
 *   1. get the new key: generated (JWT signing key, database password) or supplied by an admin
 *      from the provider's dashboard (Stripe and Razorpay keys and webhook secrets);
 *   2. wait for the admin to confirm the manual steps at the provider;
 *   3. verify the new key against what will use it; a key that fails is rolled back and the
 *      old key stays active;
 *   4. promote it, keep accepting the old key for a grace period, then retire it.
 *
 * Every step is audited; only key ids, never key material, pass through this workflow.
 */
import {
  ActivityFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  isCancellation,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  sleep,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { notAnAdmin, refusal } from '../failures';
import { activitiesFor } from '../policies';
import { ErrorCode, suppliedKeyPurposes } from '../vocabulary';
import { manualStepsFor, readable } from './manual-steps';
import {
  KEY_ROTATION_ONE_ADMIN_CHECK,
  KEY_ROTATION_VERIFIED_AUDIT,
  MANUAL_STEP_RECORDS_RESOLVED_ADMIN,
  MANUAL_STEP_UPDATE_AUDITED,
} from './patches';
import {
  confirmManualStepSignal,
  confirmManualStepUpdate,
  getKeyRotationQuery,
  supplyNewSecretUpdate,
  type KeyRotationInput,
  type KeyRotationView,
  type ManualStep,
  type ManualStepConfirmation,
} from './messages';

export type { KeyRotationInput, KeyRotationView } from './messages';

// Keys change under the keyring policy, a new key is verified a few times only (src/workflows/policies.ts).
const act = activitiesFor(
  'auditKeyStep',
  'activeAdminNamed',
  // Rotations started before KEY_ROTATION_ONE_ADMIN_CHECK (./patches.ts) only.
  'isActiveAdmin',
  'resolveActiveAdmin',
  'stageKey',
  'prepareDatabaseLogins',
  'stageDatabasePassword',
  'verifyKey',
  'promoteKey',
  'startKeyGrace',
  'retireKey',
  'lockDatabaseLogin',
  'revokeAllSessions',
);

const DEFAULT_STEP_TIMEOUT_MS = 7 * 24 * 3_600_000;

export async function keyRotationWorkflow(input: KeyRotationInput): Promise<KeyRotationView> {
  const rotationId = workflowInfo().workflowId;
  const supplied = suppliedKeyPurposes.includes(input.purpose);
  const stepTimeoutMs = input.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  const view: KeyRotationView = {
    rotationId,
    purpose: input.purpose,
    step: supplied ? 'AWAITING_SECRET' : 'STAGING',
    manualSteps: manualStepsFor(input.purpose, readable(input.graceMs)),
  };
  let suppliedBy: string | undefined;
  const show = (details: string) => setCurrentDetails(`${input.purpose}: ${details}`);
  // `onceFor`: a step that happens once (a manual step's confirmation) is audited once, whoever retries.
  const auditStep = (
    action: string,
    after?: Record<string, unknown>,
    actorId = input.requestedBy.id,
    onceFor?: string,
  ) => act.auditKeyStep({ actorId, action, rotationId, reason: input.reason, after, ...(onceFor ? { onceFor } : {}) });

  // ---- Handlers -----------------------------------------------------------------------------
  setHandler(getKeyRotationQuery, () => view, {
    description: 'Where the rotation stands: step, manual steps, new and old key ids, grace end.',
  });

  setHandler(
    supplyNewSecretUpdate,
    (secret) => {
      view.newKid = secret.kid;
      suppliedBy = secret.actor.id;
      return view;
    },
    {
      validator: (secret) => {
        if (!secret?.kid) throw refusal(ErrorCode.VALIDATION_ERROR, 'kid is required');
        if (view.step !== 'AWAITING_SECRET' || view.newKid) {
          throw refusal(
            ErrorCode.INVALID_ROTATION_STATE,
            view.newKid
              ? `the rotation has its new secret (${view.newKid})`
              : `the rotation is ${view.step}; it does not take a new secret now`,
          );
        }
      },
      description:
        'The new secret, staged in the keyring by the API (POST /admin/keys/rotations/:id/secret); carries its kid only.',
    },
  );

  const pendingStep = (stepId: string): ManualStep => {
    const step = view.manualSteps.find((s) => s.id === stepId);
    if (!step)
      throw refusal(
        ErrorCode.UNKNOWN_MANUAL_STEP,
        `no manual step ${stepId}; the steps are ${view.manualSteps.map((s) => s.id).join(', ') || 'none'}`,
      );
    if (step.confirmedBy)
      throw refusal(ErrorCode.INVALID_ROTATION_STATE, `step ${stepId} was confirmed by ${step.confirmedBy}`);
    const open =
      step.phase === 'BEFORE_VERIFY'
        ? ['AWAITING_SECRET', 'AWAITING_MANUAL_STEPS'].includes(view.step)
        : view.step === 'AWAITING_PROVIDER_SWITCH';
    if (!open)
      throw refusal(
        ErrorCode.INVALID_ROTATION_STATE,
        `the rotation is ${view.step}; step ${stepId} cannot be confirmed now`,
      );
    return step;
  };
  const pendingOrConfirmed = (stepId: string): ManualStep => view.manualSteps.find((s) => s.id === stepId)!;
  const confirm = (confirmation: ManualStepConfirmation) => {
    const step = pendingStep(confirmation.stepId);
    Object.assign(step, {
      confirmedBy: confirmation.adminId,
      confirmedAt: new Date().toISOString(),
      note: confirmation.note,
    });
    return view;
  };
  const confirmHelp =
    'Send {"stepId": "<id from the query>", "adminId": "<your admin user id or email>", "note": "<optional>"}.';
  /**
   * A confirmation by update: the API's (sealed) or typed into Temporal (the CLI, the Web UI's
   * update form). Since MANUAL_STEP_UPDATE_AUDITED it must name an active admin, is recorded
   * under their account and audited here, once per step, before it is answered. Not cancellable:
   * after its key is promoted a cancelled rotation still waits for its steps (and a rolled-back
   * one refuses them in confirm()).
   */
  const confirmByUpdate = async (confirmation: ManualStepConfirmation): Promise<KeyRotationView> => {
    if (!patched(MANUAL_STEP_UPDATE_AUDITED)) return confirm(confirmation);
    return CancellationScope.nonCancellable(() => checkAndAuditConfirmation(confirmation));
  };
  const checkAndAuditConfirmation = async (confirmation: ManualStepConfirmation): Promise<KeyRotationView> => {
    const answer = await act.activeAdminNamed({
      workflowId: rotationId,
      update: confirmManualStepUpdate.name,
      request: confirmation,
    });
    if (!answer.admin) throw notAnAdmin(confirmation.adminId);
    confirm({ ...confirmation, adminId: answer.admin.id }); // refuses a step another admin confirmed meanwhile
    await act.auditKeyStep({
      actorId: answer.admin.id,
      action: 'KEY_MANUAL_STEP_CONFIRMED',
      rotationId,
      reason: confirmation.note ?? input.reason,
      after: {
        stepId: confirmation.stepId,
        note: confirmation.note,
        // Sent through Temporal itself: who it named, as typed.
        ...(answer.via === 'temporal' ? { via: 'temporal-update', named: confirmation.adminId } : {}),
      },
      onceFor: confirmation.stepId,
    });
    pendingOrConfirmed(confirmation.stepId).audited = true;
    return view;
  };
  setHandler(confirmManualStepUpdate, confirmByUpdate, {
    validator: (confirmation) => {
      pendingStep(confirmation?.stepId);
      if (!confirmation.adminId) throw refusal(ErrorCode.VALIDATION_ERROR, 'adminId is required');
    },
    description: `Confirm a manual step is done at the provider, as an active admin (audited under your account). ${confirmHelp}`,
  });
  /** The account a confirmation from the Web UI names, if it is an active admin's (by id or email). */
  const adminNamedBy = async (confirmation: ManualStepConfirmation): Promise<string | undefined> => {
    if (!confirmation?.stepId || !confirmation.adminId) return undefined;
    if (patched(KEY_ROTATION_ONE_ADMIN_CHECK))
      return (await act.activeAdminNamed({ named: confirmation.adminId })).admin?.id;
    if (patched(MANUAL_STEP_RECORDS_RESOLVED_ADMIN))
      return (await act.resolveActiveAdmin({ named: confirmation.adminId }))?.id;
    return (await act.isActiveAdmin({ userId: confirmation.adminId })) ? confirmation.adminId : undefined;
  };
  /** Whether confirmations are recorded under the account they resolve to (every rotation since that patch). */
  const recordsResolvedAdmin = () =>
    patched(KEY_ROTATION_ONE_ADMIN_CHECK) || patched(MANUAL_STEP_RECORDS_RESOLVED_ADMIN);
  setHandler(
    confirmManualStepSignal,
    async (confirmation) => {
      // From the Web UI nobody has signed in: the admin named must be an active admin.
      const adminId = await adminNamedBy(confirmation);
      if (!adminId) {
        log.warn("Manual step confirmation ignored: stepId and an active admin's adminId are required", {
          stepId: confirmation?.stepId,
        });
        return;
      }
      try {
        confirm({ ...confirmation, adminId });
        await auditStep(
          'KEY_MANUAL_STEP_CONFIRMED',
          {
            stepId: confirmation.stepId,
            note: confirmation.note,
            // Sent through Temporal itself (Web UI, CLI): who it named, as typed.
            ...(recordsResolvedAdmin() ? { via: 'temporal-signal', named: confirmation.adminId } : {}),
          },
          adminId,
          confirmation.stepId,
        );
        pendingOrConfirmed(confirmation.stepId).audited = true;
      } catch (error) {
        log.warn('Manual step confirmation ignored', { error: String(error) });
      }
    },
    { description: `Confirm a manual step from the Temporal Web UI. ${confirmHelp}` },
  );

  /** Waits until every manual step of `phase` is confirmed; false when `timeoutMs` passed first. */
  const waitForManualSteps = async (phase: ManualStep['phase'], timeoutMs?: number): Promise<boolean> => {
    const pending = () => view.manualSteps.filter((s) => s.phase === phase && !s.confirmedBy);
    if (pending().length)
      show(
        `waiting for an admin to confirm: ${pending()
          .map((s) => `[${s.id}] ${s.instruction}`)
          .join(' ')}`,
      );
    if (timeoutMs !== undefined) return condition(() => pending().length === 0, timeoutMs);
    await condition(() => pending().length === 0);
    return true;
  };
  const rollBack = async (failure: string): Promise<KeyRotationView> => {
    view.step = 'ROLLED_BACK';
    view.failure = failure;
    if (view.newKid) {
      await act.retireKey({ kid: view.newKid });
      if (input.purpose === 'DATABASE_PASSWORD') await act.lockDatabaseLogin({ kid: view.newKid });
    }
    // The system rolls back (a deadline, a failed check, a cancellation audited by whoever asked).
    await auditStep('KEY_ROTATION_ROLLED_BACK', { kid: view.newKid, failure }, 'system');
    show(`rolled back: ${failure}; the old key stays active`);
    return view;
  };

  // ---- The runbook --------------------------------------------------------------------------

  /** Steps 1 to 3: a new key, staged and verified. Answers the view when the rotation rolled back. */
  const prepareNewKey = async (): Promise<KeyRotationView | undefined> => {
    // 1. The new key: supplied by an admin from the provider's dashboard, or made here.
    if (supplied) {
      show(
        `waiting for the new secret from the provider's dashboard (POST /admin/keys/rotations/${rotationId}/secret)`,
      );
      if (!(await condition(() => view.newKid !== undefined, stepTimeoutMs)))
        return rollBack(`no new secret within ${readable(stepTimeoutMs)}`);
      await auditStep('KEY_SUPPLIED', { kid: view.newKid }, suppliedBy);
    } else if (input.purpose === 'DATABASE_PASSWORD') {
      try {
        await act.prepareDatabaseLogins();
        const staged = await act.stageDatabasePassword({ versionId: uuid4() });
        [view.newKid, view.databaseUser] = [staged.kid, staged.user];
      } catch (error) {
        if (isCancellation(error)) throw error;
        return rollBack(failureMessage(error));
      }
      await auditStep('KEY_STAGED', { kid: view.newKid, user: view.databaseUser });
    } else {
      view.newKid = (await act.stageKey({ purpose: input.purpose, versionId: uuid4() })).kid;
      await auditStep('KEY_STAGED', { kid: view.newKid });
    }
    const newKid = view.newKid!;

    // 2. The manual steps at the provider.
    if (view.manualSteps.some((s) => s.phase === 'BEFORE_VERIFY')) {
      view.step = 'AWAITING_MANUAL_STEPS';
      if (!(await waitForManualSteps('BEFORE_VERIFY', stepTimeoutMs)))
        return rollBack(`manual steps not confirmed within ${readable(stepTimeoutMs)}`);
    }

    // 3. Verify it before anyone depends on it; a key that fails is never used.
    view.step = 'VERIFYING';
    show(`verifying ${newKid}`);
    try {
      await act.verifyKey({ purpose: input.purpose, kid: newKid });
    } catch (error) {
      if (isCancellation(error)) throw error;
      return rollBack(failureMessage(error));
    }
    // Rotations running before this audit step existed replay without it.
    if (patched(KEY_ROTATION_VERIFIED_AUDIT)) await auditStep('KEY_VERIFIED', { kid: newKid });
    return undefined;
  };

  /** Steps 4 and 5: the verified key takes over; the old one is retired after its grace. */
  const switchOver = async (newKid: string): Promise<KeyRotationView> => {
    // 4. Promote it: it signs, calls and connects from now on; the old key is still accepted.
    // While the provider still uses the old key (a manual switch follows), its grace waits for that.
    const switchFollows = view.manualSteps.some((s) => s.phase === 'AFTER_PROMOTE');
    const promoted = await act.promoteKey({
      purpose: input.purpose,
      kid: newKid,
      graceMs: switchFollows ? null : input.graceMs,
    });
    view.step = 'PROMOTED';
    view.oldKid = promoted.retiringKid;
    view.oldKeyAcceptedUntil = promoted.retiringUntil;
    await auditStep('KEY_PROMOTED', {
      kid: newKid,
      retiringKid: promoted.retiringKid,
      retiringUntil: promoted.retiringUntil,
    });
    if (input.revokeSessions) {
      const { revoked } = await act.revokeAllSessions({ reason: `key rotation ${rotationId}` });
      view.sessionsRevoked = revoked;
      await auditStep('SESSIONS_REVOKED', { revoked });
    }
    if (switchFollows) {
      // Accepting both keys is safe, so this waits as long as it takes (no rollback after promotion).
      view.step = 'AWAITING_PROVIDER_SWITCH';
      await waitForManualSteps('AFTER_PROMOTE');
      if (promoted.retiringKid)
        view.oldKeyAcceptedUntil = (
          await act.startKeyGrace({ kid: promoted.retiringKid, graceMs: input.graceMs })
        ).retiringUntil;
    }

    // 5. Wait out the grace, then retire the old key.
    if (promoted.retiringKid) {
      view.step = 'GRACE';
      show(`${newKid} active; ${promoted.retiringKid} accepted until ${view.oldKeyAcceptedUntil}`);
      await sleep(input.graceMs);
      await act.retireKey({ kid: promoted.retiringKid });
      if (input.purpose === 'DATABASE_PASSWORD') await act.lockDatabaseLogin({ kid: promoted.retiringKid });
      await auditStep('KEY_RETIRED', { kid: promoted.retiringKid });
    }
    view.step = 'DONE';
    show(`${newKid} active`);
    return view;
  };

  // Until the new key is promoted, cancelling the rotation (Web UI, API) rolls it back.
  try {
    const rolledBack = await prepareNewKey();
    if (rolledBack) return rolledBack;
  } catch (error) {
    if (!isCancellation(error)) throw error;
    return CancellationScope.nonCancellable(() => rollBack('cancelled before the new key was promoted'));
  }
  // A promoted key cannot be taken back: from here a cancellation no longer stops the rotation.
  return CancellationScope.nonCancellable(async () => {
    const done = await switchOver(view.newKid!);
    await condition(allHandlersFinished);
    return done;
  });
}

function failureMessage(error: unknown): string {
  return (error instanceof ActivityFailure ? error.cause?.message : undefined) ?? String(error);
}
