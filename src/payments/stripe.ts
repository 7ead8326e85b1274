/**
 * Stripe: the client, and what a Stripe refund's status means for ours (one mapping, read by the
 * webhook parser, the refund activity and the settlement check alike).
 */
import Stripe from 'stripe';
import type { Config } from '../platform/config';
import type { Keyring } from '../keys/keyring';

/** A Stripe refund's status as our settlement outcome: succeeded, failed (or canceled), else still pending. */
export function stripeRefundOutcome(status: string | null | undefined): 'SUCCEEDED' | 'FAILED' | 'PENDING' {
  if (status === 'succeeded') return 'SUCCEEDED';
  if (status === 'failed' || status === 'canceled') return 'FAILED';
  return 'PENDING';
}

/**
 * The Stripe client, pointed at STRIPE_API_BASE (stripe-mock locally, api.stripe.com in
 * production). Given the keyring, every request is signed with the ACTIVE `STRIPE_API_KEY`
 * asked for as it is sent (from the keyring's copy, which a rotation drops at once where it is
 * made, within milliseconds elsewhere, within KEYRING_CACHE_TTL at worst: src/keys/keyring.ts),
 * so a rotated key is used from the next call on, in every process.
 */
export function createStripe(config: Pick<Config, 'STRIPE_API_BASE'>, key: Keyring | string): Stripe {
  const base = new URL(config.STRIPE_API_BASE);
  const protocol = base.protocol === 'http:' ? 'http' : 'https';
  const options: Stripe.StripeConfig = {
    host: base.hostname,
    port: base.port ? Number(base.port) : protocol === 'http' ? 80 : 443,
    protocol,
    // Temporal retries activities; one retry here covers a dropped connection cheaply.
    maxNetworkRetries: 1,
    timeout: 10_000,
  };
  if (typeof key === 'string') return new Stripe(key, options);
  // stripe-node (23.1) throws a failed authenticator's error from a promise nobody awaits: the
  // call never settles, and Node ends the whole process on the unhandled rejection. npm run chaos
  // found it: a worker (and with it every task in hand) died when PostgreSQL restarted under a
  // Stripe call and the keyring could not be read. So the lookup never rejects there: its failure
  // is kept beside the request, and the HTTP client refuses to send that request. The SDK reports
  // it as the call's own error (a StripeConnectionError, after its one network retry, which reads
  // the key again), an activity fails and Temporal retries it; nothing goes to Stripe without a key.
  const unsigned = new WeakMap<object, unknown>();
  const node = Stripe.createNodeHttpClient();
  const httpClient: typeof node = Object.assign(Object.create(node) as typeof node, {
    makeRequest: (...args: Parameters<typeof node.makeRequest>) =>
      unsigned.has(args[4]) ? Promise.reject(unsigned.get(args[4])) : node.makeRequest(...args),
  });
  return new Stripe('', {
    ...options,
    httpClient,
    authenticator: async (request) => {
      try {
        request.headers.Authorization = `Bearer ${(await key.active('STRIPE_API_KEY')).secret}`;
      } catch (error) {
        unsigned.set(request.headers, error);
      }
    },
  });
}
