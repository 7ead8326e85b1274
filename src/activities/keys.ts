/**
 * Key rotation steps. They pass key ids (kid) around, never key material, so no secret reaches
 * Temporal history; each step is written to the audit log.
 */
import { ApplicationFailure } from '@temporalio/activity';
import jwt from 'jsonwebtoken';
import { audit } from '../audit';
import type { PrismaClient } from '../db';
import { JWT_SIGNING, type Keyring, type SecretPurpose } from '../keyring';

export function keyActivities(prisma: PrismaClient, keyring: Keyring) {
  return {
    async stageKey(input: { purpose: SecretPurpose; versionId: string }): Promise<{ kid: string; version: number }> {
      return keyring.stage(input.purpose, input.versionId);
    },

    /** Proves the staged key works before anyone depends on it: a JWT signed and verified with it. */
    async verifyKey(input: { purpose: SecretPurpose; kid: string }): Promise<void> {
      if (input.purpose !== JWT_SIGNING) throw ApplicationFailure.create({ type: 'UNSUPPORTED_PURPOSE', message: `cannot verify ${input.purpose}`, nonRetryable: true });
      const secret = await keyring.staged(input.kid);
      const probe = jwt.sign({ probe: true }, secret, { algorithm: 'HS256', keyid: input.kid, expiresIn: 60 });
      jwt.verify(probe, secret, { algorithms: ['HS256'] });
    },

    async promoteKey(input: { purpose: SecretPurpose; kid: string; graceMs: number }) {
      return keyring.promote(input.purpose, input.kid, input.graceMs);
    },

    async retireKey(input: { kid: string }): Promise<void> {
      await keyring.retire(input.kid);
    },

    /** Ends every session at once: everyone signs in again, under the new key. */
    async revokeAllSessions(input: { reason: string }): Promise<{ revoked: number }> {
      const { count } = await prisma.session.updateMany({ where: { revokedAt: null }, data: { revokedAt: new Date(), revokeReason: input.reason } });
      return { revoked: count };
    },

    async auditKeyStep(input: { actorId: string; action: string; rotationId: string; reason?: string; after?: Record<string, unknown> }): Promise<void> {
      await audit(prisma, { actorId: input.actorId, action: input.action, targetType: 'key_rotation', targetId: input.rotationId, reason: input.reason, after: input.after });
    },
  };
}
