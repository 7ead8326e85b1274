/**
 * Key rotation steps. They pass key ids (kid) around, never key material, so no secret reaches
 * Temporal history; each step is written to the audit log.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { refusalFailure } from '../platform/errors';
import { ErrorCode } from '../workflows/vocabulary';
import jwt from 'jsonwebtoken';
import { createHmac, randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import { isActiveAdmin } from '../access/admins';
import { audit } from '../access/audit';
import type { Config } from '../platform/config';
import { DatabaseLogins } from '../keys/database-login';
import type { PrismaClient } from '../platform/db';
import type { DatabaseLogin, Keyring, RazorpayKey, SecretPurpose } from '../keys/keyring';
import { createRazorpayGateway, verifyRazorpaySignature } from '../payments/razorpay';
import { createStripe } from '../payments/stripe';

export type KeyConfig = Pick<
  Config,
  'STRIPE_API_BASE' | 'RAZORPAY_API_BASE' | 'DATABASE_URL' | 'DATABASE_ADMIN_URL' | 'DATABASE_ROLE_PREFIX'
>;

const verificationFailed = (message: string) => refusalFailure(ErrorCode.KEY_VERIFICATION_FAILED, message);

/** A provider's answer that will not change on retry (401, 403, 400) means the key is wrong. */
function isRefusal(error: unknown): boolean {
  if (error instanceof Stripe.errors.StripeError)
    return error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500;
  const status = (error as { statusCode?: number })?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

function refusalMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  const described = (error as { error?: { description?: string } })?.error?.description;
  return described ?? String(error);
}

/** `message` with the secret (or, for a JSON secret, each of its values) blanked out. */
function withoutSecret(message: string, secret: string): string {
  let parts = [secret];
  try {
    const parsed: unknown = JSON.parse(secret);
    if (parsed && typeof parsed === 'object')
      parts = Object.values(parsed).filter((v): v is string => typeof v === 'string');
  } catch {
    // not JSON: the secret is one string
  }
  return parts.filter((part) => part.length > 0).reduce((text, part) => text.split(part).join('[redacted]'), message);
}

/** The database refusing the admin login what a rotation needs (42501) will not change on retry. */
async function asDatabaseAdmin<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if ((error as { code?: string }).code === '42501') {
      throw refusalFailure(
        ErrorCode.DATABASE_ADMIN_REFUSED,
        `DATABASE_ADMIN_URL may not manage the login roles: ${(error as Error).message}`,
      );
    }
    throw error;
  }
}

export function keyActivities(prisma: PrismaClient, keyring: Keyring, config: KeyConfig) {
  const databaseLogins = new DatabaseLogins(config);

  /** Proves a staged secret works before anyone depends on it. */
  async function verify(purpose: SecretPurpose, secret: string): Promise<void> {
    switch (purpose) {
      case 'JWT_SIGNING': {
        const probe = jwt.sign({ probe: true }, secret, { algorithm: 'HS256', expiresIn: 60 });
        jwt.verify(probe, secret, { algorithms: ['HS256'] });
        return;
      }
      case 'STRIPE_API_KEY':
        // An authenticated read that changes nothing.
        await createStripe(config, secret).balance.retrieve();
        return;
      case 'RAZORPAY_KEY':
        await createRazorpayGateway(config, JSON.parse(secret) as RazorpayKey).verifyCredentials();
        return;
      case 'STRIPE_WEBHOOK_SECRET': {
        // Stripe cannot be asked about a signing secret; check its form and that an event signed
        // with it passes the same verification the webhook endpoint runs.
        if (!secret.startsWith('whsec_'))
          throw verificationFailed('a Stripe webhook signing secret starts with whsec_');
        const payload = JSON.stringify({ id: 'evt_key_rotation_probe', object: 'event' });
        const header = Stripe.webhooks.generateTestHeaderString({ payload, secret });
        Stripe.webhooks.constructEvent(payload, header, secret);
        return;
      }
      case 'RAZORPAY_WEBHOOK_SECRET': {
        if (secret.length < 16) throw verificationFailed('a Razorpay webhook secret should be at least 16 characters');
        const body = Buffer.from('{"event":"key_rotation.probe"}');
        if (!verifyRazorpaySignature(body, createHmac('sha256', secret).update(body).digest('hex'), secret))
          throw verificationFailed('signature round trip failed');
        return;
      }
      case 'DATABASE_PASSWORD':
        await databaseLogins.verify(JSON.parse(secret) as DatabaseLogin);
        return;
    }
  }

  return {
    /** Stages a generated key (JWT signing). */
    async stageKey(input: { purpose: SecretPurpose; versionId: string }): Promise<{ kid: string; version: number }> {
      return keyring.stage(input.purpose, input.versionId);
    },

    /** Verifies a staged key against what will use it; a refusal fails for good and the rotation rolls back. */
    async verifyKey(input: { purpose: SecretPurpose; kid: string }): Promise<void> {
      const secret = await keyring.secretOf(input.kid);
      try {
        await verify(input.purpose, secret);
      } catch (error) {
        if (error instanceof ApplicationFailure) throw error;
        // A provider refusing the key, or the database refusing the login, will not change on retry.
        const permanent =
          isRefusal(error) ||
          input.purpose === 'JWT_SIGNING' ||
          input.purpose === 'STRIPE_WEBHOOK_SECRET' ||
          (error as { code?: string }).code?.startsWith('28');
        // Providers echo the key they refused: it must not reach the audit log or Temporal.
        if (permanent)
          throw verificationFailed(
            `${input.purpose} ${input.kid} was refused: ${withoutSecret(refusalMessage(error), secret)}`,
          );
        throw error; // unreachable provider: Temporal retries
      }
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
      const { count } = await prisma.session.updateMany({
        where: { revokedAt: null },
        data: { revokedAt: new Date(), revokeReason: input.reason },
      });
      return { revoked: count };
    },

    async auditKeyStep(input: {
      actorId: string;
      action: string;
      rotationId: string;
      reason?: string;
      after?: Record<string, unknown>;
    }): Promise<void> {
      await audit(prisma, {
        actorId: input.actorId,
        action: input.action,
        targetType: 'key_rotation',
        targetId: input.rotationId,
        reason: input.reason,
        after: input.after,
      });
    },

    /** A manual step confirmed from the Temporal Web UI names its admin; they must be an active admin. */
    async isActiveAdmin(input: { userId: string }): Promise<boolean> {
      return isActiveAdmin(prisma, input.userId);
    },

    /** The two alternating logins exist and may use the app's tables. */
    async prepareDatabaseLogins(): Promise<{ logins: string[] }> {
      await asDatabaseAdmin(() => databaseLogins.prepare());
      return { logins: databaseLogins.logins };
    },

    /**
     * Stages a new password for the standby login (the one not in use) and sets it in the
     * database. The standby must not still be in its grace from the rotation before.
     */
    async stageDatabasePassword(input: { versionId: string }): Promise<{ kid: string; user: string }> {
      const active = await keyring.activeIfAny('DATABASE_PASSWORD');
      const activeUser = active ? (JSON.parse(active.secret) as DatabaseLogin).user : undefined;
      const retiring = await prisma.secretVersion.findMany({
        where: { purpose: 'DATABASE_PASSWORD', status: 'RETIRING' },
      });
      const user = databaseLogins.standby(activeUser);
      for (const row of retiring) {
        if ((JSON.parse(await keyring.secretOf(row.kid)) as DatabaseLogin).user === user) {
          throw refusalFailure(
            ErrorCode.ROTATION_IN_PROGRESS,
            `${user} is still in its grace period (${row.kid}); rotate again after it ends`,
          );
        }
      }
      const staged = await keyring.stage(
        'DATABASE_PASSWORD',
        input.versionId,
        JSON.stringify({ user, password: randomBytes(32).toString('base64url') } satisfies DatabaseLogin),
      );
      // A retried activity stages nothing new and sets the same password again.
      const login = JSON.parse(await keyring.secretOf(staged.kid)) as DatabaseLogin;
      await asDatabaseAdmin(() => databaseLogins.setPassword(login));
      return { kid: staged.kid, user };
    },

    /** After its grace, the old login's password no longer opens a connection. */
    async lockDatabaseLogin(input: { kid: string }): Promise<{ user: string }> {
      const { user } = JSON.parse(await keyring.secretOf(input.kid)) as DatabaseLogin;
      await databaseLogins.lock(user);
      return { user };
    },
  };
}
