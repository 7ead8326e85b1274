/**
 * The runbook's "Payment system diagnosis" as one read: payments that failed or expired in the
 * last hour by provider and reason, the webhook inbox's figures for the same hour, whether each
 * provider answers with the active key, and what the payments switch and maintenance mode say.
 */
import type Stripe from 'stripe';
import type { Keyring } from '../keys/keyring';
import { providerConnectivity } from '../payments/connectivity';
import type { RazorpayGateway } from '../payments/razorpay';
import { paymentsSwitch } from '../payments/switch';
import { webhookHealth } from '../payments/webhook-operations';
import type { OperationsDeps } from '../platform/temporal';
import { maintenanceState } from './maintenance';

const PROVIDERS = ['STRIPE', 'RAZORPAY'] as const;
const HOUR_MS = 3_600_000;

export interface PaymentDiagnosisDeps extends OperationsDeps {
  stripe: Stripe;
  razorpay: RazorpayGateway;
  keyring: Keyring;
}

export async function diagnosePayments(deps: PaymentDiagnosisDeps, actorId: string) {
  const since = new Date(Date.now() - HOUR_MS);
  const [failed, expired, webhooks, connectivity, stripeKey, razorpayKey, switchState, maintenance] = await Promise.all(
    [
      deps.prisma.payment.groupBy({
        by: ['provider', 'failureReason'],
        where: { status: 'FAILED', processedAt: { gte: since } },
        _count: { _all: true },
      }),
      // A reservation that expired cancels its open payment attempt with the order.
      deps.prisma.payment.groupBy({
        by: ['provider'],
        where: { status: 'CANCELLED', order: { cancelReason: 'RESERVATION_EXPIRED', cancelledAt: { gte: since } } },
        _count: { _all: true },
      }),
      webhookHealth(deps, 1, actorId),
      providerConnectivity(deps),
      deps.keyring.active('STRIPE_API_KEY'),
      deps.keyring.active('RAZORPAY_KEY'),
      paymentsSwitch(deps.prisma),
      maintenanceState(deps.prisma),
    ],
  );
  const activeKey = { STRIPE: stripeKey.kid, RAZORPAY: razorpayKey.kid };
  const payments = Object.fromEntries(
    PROVIDERS.map((provider) => {
      const mine = failed.filter((f) => f.provider === provider);
      const expiredCount = expired.find((e) => e.provider === provider)?._count._all ?? 0;
      const byReason: Record<string, number> = {};
      for (const f of mine)
        byReason[f.failureReason ?? 'unknown'] = (byReason[f.failureReason ?? 'unknown'] ?? 0) + f._count._all;
      if (expiredCount > 0) byReason.RESERVATION_EXPIRED = expiredCount;
      return [provider, { failed: mine.reduce((sum, f) => sum + f._count._all, 0), expired: expiredCount, byReason }];
    }),
  );
  const providers = Object.fromEntries(
    PROVIDERS.map((provider) => [provider, { ...connectivity[provider], activeKeyId: activeKey[provider] }]),
  );
  return {
    since: since.toISOString(),
    payments,
    webhooks: webhooks.providers,
    providers,
    paymentsSwitch: switchState,
    maintenance,
  };
}
