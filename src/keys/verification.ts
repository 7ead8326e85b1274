/**
 * Proving a staged key works before anyone depends on it, for each purpose the keyring holds:
 * a JWT signs and verifies, a provider key makes an authenticated read that changes nothing, a
 * webhook secret verifies an event signed with it, a database login connects and may use the
 * app's tables. A refusal (the provider or the database saying no, which will not change on
 * retry) is KEY_VERIFICATION_FAILED, with the secret blanked out of its message: providers echo
 * the key they refused, and it must not reach the audit log or Temporal. An unreachable provider
 * is thrown as it is, to be retried.
 */
import jwt from 'jsonwebtoken';
import { createHmac } from 'node:crypto';
import Stripe from 'stripe';
import type { Config } from '../platform/config';
import { DomainError } from '../platform/errors';
import { isProviderRefusal } from '../payments/provider-calls';
import { createRazorpayGateway, verifyRazorpaySignature } from '../payments/razorpay';
import { createStripe } from '../payments/stripe';
import { ErrorCode } from '../workflows/vocabulary';
import type { DatabaseLogins } from './database-login';
import type { DatabaseLogin, Keyring, RazorpayKey, SecretPurpose } from './keyring';

export interface KeyVerifiers {
  keyring: Keyring;
  config: Pick<Config, 'STRIPE_API_BASE' | 'RAZORPAY_API_BASE'>;
  databaseLogins: DatabaseLogins;
}

const verificationFailed = (message: string) => new DomainError(ErrorCode.KEY_VERIFICATION_FAILED, message);

/** Verifies staged key `kid` against what will use it; a refusal is final and the rotation rolls back. */
export async function verifyStagedKey(deps: KeyVerifiers, purpose: SecretPurpose, kid: string): Promise<void> {
  const secret = await deps.keyring.secretOf(kid);
  try {
    await verify(deps, purpose, secret);
  } catch (error) {
    if (error instanceof DomainError) throw error;
    // A provider refusing the key (401, 403, 400), or the database refusing the login, will not change on retry.
    const permanent =
      isProviderRefusal(error) ||
      purpose === 'JWT_SIGNING' ||
      purpose === 'STRIPE_WEBHOOK_SECRET' ||
      (error as { code?: string }).code?.startsWith('28');
    if (permanent)
      throw verificationFailed(`${purpose} ${kid} was refused: ${withoutSecret(refusalMessage(error), secret)}`);
    throw error; // unreachable provider: Temporal retries
  }
}

async function verify(deps: KeyVerifiers, purpose: SecretPurpose, secret: string): Promise<void> {
  switch (purpose) {
    case 'JWT_SIGNING': {
      const probe = jwt.sign({ probe: true }, secret, { algorithm: 'HS256', expiresIn: 60 });
      jwt.verify(probe, secret, { algorithms: ['HS256'] });
      return;
    }
    case 'STRIPE_API_KEY':
      // An authenticated read that changes nothing.
      await createStripe(deps.config, secret).balance.retrieve();
      return;
    case 'RAZORPAY_KEY':
      await createRazorpayGateway(deps.config, JSON.parse(secret) as RazorpayKey).verifyCredentials();
      return;
    case 'STRIPE_WEBHOOK_SECRET': {
      // Stripe cannot be asked about a signing secret; check its form and that an event signed
      // with it passes the same verification the webhook endpoint runs.
      if (!secret.startsWith('whsec_')) throw verificationFailed('a Stripe webhook signing secret starts with whsec_');
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
      await deps.databaseLogins.verify(JSON.parse(secret) as DatabaseLogin);
      return;
  }
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
