/**
 * Whether each payment provider answers with the key we hold: one authenticated read that
 * changes nothing (Stripe `GET /v1/balance`, Razorpay `GET /v1/orders?count=1`), bounded by a
 * timeout. The one probe behind GET /health and the payment diagnosis: a key the provider no
 * longer accepts shows as down in both.
 */
import type Stripe from 'stripe';
import type { RazorpayGateway } from './razorpay';

export interface ProbeResult {
  status: 'up' | 'down';
  latencyMs: number;
  /** The failure's kind and HTTP status, never its message (which could echo a key). */
  error?: string;
}

export async function probe(work: () => Promise<unknown>, timeoutMs = 3000): Promise<ProbeResult> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { type: 'Timeout' })), timeoutMs);
        timer.unref();
      }),
    ]);
    return { status: 'up', latencyMs: latency() };
  } catch (error) {
    const e = error as { type?: string; code?: string; name?: string; statusCode?: number; cause?: { code?: string } };
    // fetch() reports a refused connection as a TypeError whose cause has the code.
    const kind = e?.type ?? e?.code ?? e?.cause?.code ?? e?.name ?? 'Error';
    return { status: 'down', latencyMs: latency(), error: e?.statusCode ? `${kind} (HTTP ${e.statusCode})` : kind };
  } finally {
    clearTimeout(timer);
  }
}

/** Each provider's authenticated read with its active key. */
export function providerProbes(deps: { stripe: Stripe; razorpay: RazorpayGateway }) {
  return {
    STRIPE: () => deps.stripe.balance.retrieve(),
    RAZORPAY: () => deps.razorpay.verifyCredentials(),
  };
}

export async function providerConnectivity(deps: {
  stripe: Stripe;
  razorpay: RazorpayGateway;
}): Promise<Record<'STRIPE' | 'RAZORPAY', ProbeResult>> {
  const probes = providerProbes(deps);
  const [stripe, razorpay] = await Promise.all([probe(probes.STRIPE), probe(probes.RAZORPAY)]);
  return { STRIPE: stripe, RAZORPAY: razorpay };
}
