/**
 * The key rotation's pure helpers: what a person does at each provider's dashboard for a purpose,
 * and durations in words for those instructions. No workflow state and no commands.
 */
import type { KeyPurpose } from '../vocabulary';
import type { ManualStep } from './messages';

/** What a person does at the provider, per purpose (`grace` reads like "24 hours"). */
export function manualStepsFor(purpose: KeyPurpose, grace: string): ManualStep[] {
  switch (purpose) {
    case 'STRIPE_API_KEY':
      return [
        {
          id: 'old-key-expiry',
          phase: 'BEFORE_VERIFY',
          instruction: `In the Stripe Dashboard (Developers → API keys), roll the secret key with the old key expiring in no less than ${grace}, so calls in flight finish under it.`,
        },
      ];
    case 'STRIPE_WEBHOOK_SECRET':
      return [
        {
          id: 'old-secret-expiry',
          phase: 'BEFORE_VERIFY',
          instruction: `In the Stripe Dashboard (Developers → Webhooks → this endpoint), roll the signing secret with the old one expiring in no less than ${grace}: Stripe signs each event with both until then.`,
        },
      ];
    case 'RAZORPAY_KEY':
      return [
        {
          id: 'old-key-kept',
          phase: 'BEFORE_VERIFY',
          instruction:
            'In the Razorpay Dashboard (Account & Settings → API Keys), the new key is generated and the old key is kept until this rotation is DONE.',
        },
      ];
    case 'RAZORPAY_WEBHOOK_SECRET':
      return [
        {
          id: 'dashboard-secret-updated',
          phase: 'AFTER_PROMOTE',
          instruction: `In the Razorpay Dashboard (Account & Settings → Webhooks → this endpoint), set the secret to the new value. Both secrets are accepted until you confirm, then for ${grace}.`,
        },
      ];
    default:
      return [];
  }
}

export function readable(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1_000, 'second'],
  ];
  const [size, name] = units.find(([size]) => ms >= size && ms % size === 0) ?? [1, 'millisecond'];
  const count = ms / size;
  return `${count} ${name}${count === 1 ? '' : 's'}`;
}
