/**
 * Key rotation steps, thin adapters over src/keys (the keyring, verification.ts,
 * database-rotation.ts, rotations.ts) and src/access/sessions.ts, refusals handed on as
 * non-retryable failures. They pass key ids (kid) around, never key material, so no secret
 * reaches Temporal history; each step is written to the audit log.
 */
import { revokeAllSessions } from '../access/sessions';
import type { Config } from '../platform/config';
import { refusing } from '../platform/errors';
import { DatabaseLogins } from '../keys/database-login';
import { lockDatabaseLogin, prepareDatabaseLogins, stageDatabasePassword } from '../keys/database-rotation';
import type { PrismaClient } from '../platform/db';
import type { Keyring, SecretPurpose } from '../keys/keyring';
import { auditRotationStep } from '../keys/rotations';
import { verifyStagedKey } from '../keys/verification';

export type KeyConfig = Pick<
  Config,
  'STRIPE_API_BASE' | 'RAZORPAY_API_BASE' | 'DATABASE_URL' | 'DATABASE_ADMIN_URL' | 'DATABASE_ROLE_PREFIX'
>;

export function keyActivities(prisma: PrismaClient, keyring: Keyring, config: KeyConfig) {
  const databaseLogins = new DatabaseLogins(config);

  return {
    /** Stages a generated key (JWT signing). */
    async stageKey(input: { purpose: SecretPurpose; versionId: string }): Promise<{ kid: string; version: number }> {
      return keyring.stage(input.purpose, input.versionId);
    },

    /** Verifies a staged key against what will use it; a refusal fails for good and the rotation rolls back. */
    async verifyKey(input: { purpose: SecretPurpose; kid: string }): Promise<void> {
      await refusing(() => verifyStagedKey({ keyring, config, databaseLogins }, input.purpose, input.kid));
    },

    async promoteKey(input: { purpose: SecretPurpose; kid: string; graceMs: number | null }) {
      return keyring.promote(input.purpose, input.kid, input.graceMs);
    },

    async startKeyGrace(input: { kid: string; graceMs: number }): Promise<{ retiringUntil: string }> {
      return keyring.startGrace(input.kid, input.graceMs);
    },

    async retireKey(input: { kid: string }): Promise<void> {
      await keyring.retire(input.kid);
    },

    /** Ends every session at once: everyone signs in again, under the new key. */
    async revokeAllSessions(input: { reason: string }): Promise<{ revoked: number }> {
      return revokeAllSessions(prisma, input.reason);
    },

    /** A rotation's step in the audit log; one with `onceFor` (a manual step's id) once, however often retried. */
    async auditKeyStep(input: Parameters<typeof auditRotationStep>[1]): Promise<void> {
      await auditRotationStep(prisma, input);
    },

    /** The two alternating logins exist and may use the app's tables. */
    async prepareDatabaseLogins(): Promise<{ logins: string[] }> {
      return refusing(() => prepareDatabaseLogins(databaseLogins));
    },

    /** Stages a new password for the standby login (the one not in use) and sets it in the database. */
    async stageDatabasePassword(input: { versionId: string }): Promise<{ kid: string; user: string }> {
      return refusing(() => stageDatabasePassword({ prisma, keyring, logins: databaseLogins }, input.versionId));
    },

    /** After its grace, the old login's password no longer opens a connection. */
    async lockDatabaseLogin(input: { kid: string }): Promise<{ user: string }> {
      return lockDatabaseLogin({ keyring, logins: databaseLogins }, input.kid);
    },
  };
}
