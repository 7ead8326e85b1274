/**
 * The three health answers. Liveness is the process alone. Readiness is what this process cannot
 * serve without (PostgreSQL and Temporal), so an orchestrator never pulls a replica, and with it
 * cash-on-delivery checkouts, because a payment provider blinked. Health adds the providers, each
 * probed at most once per HEALTH_PROVIDER_CACHE_TTL however often /health is hit (concurrent hits
 * share the probe in flight), so flooding /health never spends the shop's provider rate limit.
 */
import type Stripe from 'stripe';
import { probe, providerProbes, type ProbeResult } from '../payments/connectivity';
import type { RazorpayGateway } from '../payments/razorpay';
import type { PrismaClient } from '../platform/db';

export type Status = 'up' | 'down';

export interface HealthDeps {
  prisma: PrismaClient;
  /** One call to Temporal that fails fast when it is unreachable (no retries outliving the probe). */
  temporalProbe: () => Promise<unknown>;
  stripe: Stripe;
  razorpay: RazorpayGateway;
}

/** `work` probed at most once per `ttlMs`; callers meanwhile get the last result or share the one in flight. */
export function cachedProbe(
  work: () => Promise<unknown>,
  ttlMs: number,
  timeoutMs: number,
): () => Promise<ProbeResult> {
  let last: { result: ProbeResult; at: number } | undefined;
  let inFlight: Promise<ProbeResult> | undefined;
  return () => {
    if (last && Date.now() - last.at < ttlMs) return Promise.resolve(last.result);
    inFlight ??= probe(work, timeoutMs).then((result) => {
      last = { result, at: Date.now() };
      inFlight = undefined;
      return result;
    });
    return inFlight;
  };
}

export function healthChecks(deps: HealthDeps, options: { providerCacheTtlMs: number; timeoutMs: number }) {
  const providers = providerProbes(deps);
  const stripe = cachedProbe(providers.STRIPE, options.providerCacheTtlMs, options.timeoutMs);
  // An authenticated read: a key Razorpay no longer accepts shows here as down.
  const razorpay = cachedProbe(providers.RAZORPAY, options.providerCacheTtlMs, options.timeoutMs);

  async function readiness(): Promise<{ ready: boolean; checks: { database: Status; temporal: Status } }> {
    const [database, temporal] = await Promise.all([
      probe(() => deps.prisma.$queryRaw`SELECT 1`, options.timeoutMs),
      probe(deps.temporalProbe, options.timeoutMs),
    ]);
    const checks = { database: database.status, temporal: temporal.status };
    return { ready: Object.values(checks).every((s) => s === 'up'), checks };
  }

  async function health() {
    const [ready, stripeStatus, razorpayStatus] = await Promise.all([readiness(), stripe(), razorpay()]);
    const checks = { ...ready.checks, stripe: stripeStatus.status, razorpay: razorpayStatus.status };
    return { healthy: Object.values(checks).every((s) => s === 'up'), checks };
  }

  return { readiness, health };
}
