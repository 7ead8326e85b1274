/**
 * The key rotation workflow's contract (`key-rotation-<purpose>-<rotationId>`): its input, the
 * view it answers, and the admin's secret and manual-step confirmations.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Actor, KeyPurpose } from '../vocabulary';

export interface KeyRotationInput {
  purpose: KeyPurpose;
  requestedBy: Actor;
  reason: string;
  /** JWT only: end every session at once. */
  revokeSessions: boolean;
  /** How long the old key is still accepted; the caller makes it at least what the purpose needs. */
  graceMs: number;
  /** How long to wait for an admin (the new secret, a manual step) before rolling back. */
  stepTimeoutMs?: number;
}

export type KeyRotationStep =
  | 'AWAITING_SECRET'
  | 'AWAITING_MANUAL_STEPS'
  | 'STAGING'
  | 'VERIFYING'
  | 'PROMOTED'
  | 'AWAITING_PROVIDER_SWITCH'
  | 'GRACE'
  | 'DONE'
  | 'ROLLED_BACK';

/** Something only a person can do (in a provider's dashboard); the rotation waits for its confirmation. */
export interface ManualStep {
  id: string;
  /** BEFORE_VERIFY: done before the new key is checked; AFTER_PROMOTE: once both keys are accepted. */
  phase: 'BEFORE_VERIFY' | 'AFTER_PROMOTE';
  instruction: string;
  confirmedBy?: string;
  confirmedAt?: string;
  note?: string;
  /**
   * The workflow audited the confirmation itself (patch manual-step-update-audited, and every
   * signal since manual-step-records-resolved-admin); unset, the API that sent it audits it.
   */
  audited?: boolean;
}

export interface KeyRotationView {
  rotationId: string;
  purpose: KeyPurpose;
  step: KeyRotationStep;
  manualSteps: ManualStep[];
  newKid?: string;
  oldKid?: string;
  oldKeyAcceptedUntil?: string;
  sessionsRevoked?: number;
  /** DATABASE_PASSWORD: the login the new password belongs to. */
  databaseUser?: string;
  failure?: string;
}

/** The new secret was put in the keyring (STAGED) by the API; only its kid travels through Temporal. */
export interface SuppliedSecret {
  kid: string;
  actor: Actor;
}

/**
 * Confirms a manual step, from the API or the Temporal Web UI: `{"stepId": "...", "adminId": "...", "note": "..."}`.
 * `apiSeal` is set by the API (src/access/request-seals.ts); an update without a valid one was
 * sent through Temporal itself (CLI, the Web UI's update form) and is audited as such.
 */
export interface ManualStepConfirmation {
  stepId: string;
  adminId: string;
  note?: string;
  apiSeal?: string;
}

export const getKeyRotationQuery = defineQuery<KeyRotationView>('getKeyRotation');
export const supplyNewSecretUpdate = defineUpdate<KeyRotationView, [SuppliedSecret]>('supplyNewSecret');
export const confirmManualStepUpdate = defineUpdate<KeyRotationView, [ManualStepConfirmation]>('confirmManualStep');
export const confirmManualStepSignal = defineSignal<[ManualStepConfirmation]>('confirmManualStep');
