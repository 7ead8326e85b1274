import Stripe from 'stripe';
import type { Config } from './config';

/** The Stripe client, pointed at STRIPE_API_BASE (stripe-mock locally, api.stripe.com in production). */
export function createStripe(config: Pick<Config, 'STRIPE_SECRET_KEY' | 'STRIPE_API_BASE'>): Stripe {
  const base = new URL(config.STRIPE_API_BASE);
  const protocol = base.protocol === 'http:' ? 'http' : 'https';
  return new Stripe(config.STRIPE_SECRET_KEY, {
    host: base.hostname,
    port: base.port ? Number(base.port) : protocol === 'http' ? 80 : 443,
    protocol,
    // Temporal retries activities; one retry here covers a dropped connection cheaply.
    maxNetworkRetries: 1,
    timeout: 10_000,
  });
}
