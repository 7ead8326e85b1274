/**
 * Where each keyring purpose's versions start: the kid prefix its versions are named by, and its
 * first version, the value configured in the environment (taken in by the keyring on first use,
 * src/keys/keyring.ts), with the variables behind it that still hold their public local default
 * (refused in production).
 */
import { isLocalDefault, type Config } from '../platform/config';
import type { KeyPurpose } from '../workflows/vocabulary';
import type { RazorpayKey } from './keyring';

/** Key ids read `<prefix>-<version>`, so an operator can tell what a kid is for at a glance. */
export const kidPrefix: Record<KeyPurpose, string> = {
  JWT_SIGNING: 'jwt',
  STRIPE_API_KEY: 'stripe-api-key',
  STRIPE_WEBHOOK_SECRET: 'stripe-webhook-secret',
  RAZORPAY_KEY: 'razorpay-key',
  RAZORPAY_WEBHOOK_SECRET: 'razorpay-webhook-secret',
  DATABASE_PASSWORD: 'database-password',
};

export type FirstVersionConfig = Pick<
  Config,
  | 'JWT_SECRET'
  | 'JWT_KEY_ID'
  | 'STRIPE_SECRET_KEY'
  | 'STRIPE_WEBHOOK_SECRET'
  | 'RAZORPAY_KEY_ID'
  | 'RAZORPAY_KEY_SECRET'
  | 'RAZORPAY_WEBHOOK_SECRET'
>;

/** The configured first version of `purpose`, if it has one (the database password has none). */
export function firstVersion(c: FirstVersionConfig, purpose: KeyPurpose): { kid: string; secret: string } | undefined {
  const first: Record<KeyPurpose, string | undefined> = {
    JWT_SIGNING: c.JWT_SECRET,
    STRIPE_API_KEY: c.STRIPE_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET: c.STRIPE_WEBHOOK_SECRET,
    RAZORPAY_KEY: JSON.stringify({ keyId: c.RAZORPAY_KEY_ID, keySecret: c.RAZORPAY_KEY_SECRET } satisfies RazorpayKey),
    RAZORPAY_WEBHOOK_SECRET: c.RAZORPAY_WEBHOOK_SECRET,
    DATABASE_PASSWORD: undefined,
  };
  const secret = first[purpose];
  if (secret === undefined) return undefined;
  return { kid: purpose === 'JWT_SIGNING' ? c.JWT_KEY_ID : `${kidPrefix[purpose]}-1`, secret };
}

/** The variables behind `purpose`'s first version that still hold their public local default. */
export function localDefaultsOf(c: FirstVersionConfig, purpose: KeyPurpose): string[] {
  const sources: Partial<Record<KeyPurpose, [Parameters<typeof isLocalDefault>[0], string][]>> = {
    JWT_SIGNING: [['JWT_SECRET', c.JWT_SECRET]],
    STRIPE_API_KEY: [['STRIPE_SECRET_KEY', c.STRIPE_SECRET_KEY]],
    STRIPE_WEBHOOK_SECRET: [['STRIPE_WEBHOOK_SECRET', c.STRIPE_WEBHOOK_SECRET]],
    RAZORPAY_KEY: [
      ['RAZORPAY_KEY_ID', c.RAZORPAY_KEY_ID],
      ['RAZORPAY_KEY_SECRET', c.RAZORPAY_KEY_SECRET],
    ],
    RAZORPAY_WEBHOOK_SECRET: [['RAZORPAY_WEBHOOK_SECRET', c.RAZORPAY_WEBHOOK_SECRET]],
  };
  return (sources[purpose] ?? []).filter(([name, value]) => isLocalDefault(name, value)).map(([name]) => name);
}
