/**
 * Razorpay, behind the few calls we make. The official `razorpay` client does the HTTP; its base
 * URL comes from RAZORPAY_API_BASE so it can talk to the local sandbox (scripts/lib/razorpay-sandbox.ts),
 * which speaks Razorpay's documented request and response shapes, where api.razorpay.com is out of reach.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import Razorpay from 'razorpay';
import type { Config } from '../platform/config';
import type { Keyring, RazorpayKey } from '../keys/keyring';
import { isProviderRefusal } from './provider-calls';

export interface RazorpayPayment {
  id: string;
  order_id: string;
  amount: number;
  currency: string;
  status: 'created' | 'authorized' | 'captured' | 'refunded' | 'failed';
  /** How much of it has been refunded (minor units). */
  amount_refunded?: number;
  error_code?: string | null;
  error_description?: string | null;
  notes?: Record<string, string> | unknown[];
}

/**
 * The payment of a Razorpay order that was captured (refunded since, in part or in full, or not):
 * a Razorpay order is paid at most once, so this is the money the order took, if any.
 */
export function capturedPayment(payments: RazorpayPayment[]): RazorpayPayment | undefined {
  return payments.find((p) => p.status === 'captured' || p.status === 'refunded');
}

export interface RazorpayGateway {
  /** The public key id the browser's Razorpay Checkout needs alongside the order id. */
  keyId(): Promise<string>;
  createOrder(input: {
    amount: number;
    currency: string;
    receipt: string;
    notes: Record<string, string>;
  }): Promise<{ id: string }>;
  orderPayments(razorpayOrderId: string): Promise<RazorpayPayment[]>;
  /** Proves the key works: an authenticated read that changes nothing. */
  verifyCredentials(): Promise<void>;
  /**
   * Refunds `paymentId` once per `key`: an earlier refund carrying the same key is returned
   * instead, and `created` says which (so a refund is counted once, however often it is asked for).
   */
  refundOnce(paymentId: string, amount: number, key: string): Promise<{ id: string; created: boolean }>;
}

/** The Razorpay API with one fixed key (key verification, tests). */
export function createRazorpayGateway(config: Pick<Config, 'RAZORPAY_API_BASE'>, key: RazorpayKey): RazorpayGateway {
  const client = new Razorpay({ key_id: key.keyId, key_secret: key.keySecret });
  // The client has no option for its host; its axios instance does.
  const { defaults } = (client as unknown as { api: { rq: { defaults: { baseURL: string; timeout: number } } } }).api
    .rq;
  defaults.baseURL = config.RAZORPAY_API_BASE;
  defaults.timeout = 10_000;
  return {
    async keyId() {
      return key.keyId;
    },
    async createOrder(input) {
      const order = await client.orders.create({
        amount: input.amount,
        currency: input.currency,
        receipt: input.receipt,
        notes: input.notes,
      });
      return { id: order.id };
    },
    async verifyCredentials() {
      await client.orders.all({ count: 1 });
    },
    async orderPayments(razorpayOrderId) {
      const { items } = await client.orders.fetchPayments(razorpayOrderId);
      return items as unknown as RazorpayPayment[];
    },
    async refundOnce(paymentId, amount, key) {
      // Razorpay takes no idempotency key, so the key travels in the refund's notes: look for it
      // before refunding, and again if Razorpay refuses (a concurrent caller may just have refunded).
      const earlier = async () => {
        const { items } = await client.payments.fetchMultipleRefund(paymentId, {});
        return items.find((refund) => (refund.notes as Record<string, string> | undefined)?.idempotencyKey === key);
      };
      const before = await earlier();
      if (before) return { id: before.id, created: false };
      try {
        const refund = await client.payments.refund(paymentId, { amount, notes: { idempotencyKey: key } });
        return { id: refund.id, created: true };
      } catch (error) {
        const after = isProviderRefusal(error) ? await earlier() : undefined;
        if (after) return { id: after.id, created: false };
        throw error;
      }
    },
  };
}

/**
 * The Razorpay API with the keyring's ACTIVE `RAZORPAY_KEY`, asked for on every call (from the
 * keyring's copy, which a rotation drops: src/keys/keyring.ts), so a rotated key is used from the
 * next call on (one client per key version).
 */
export function keyringRazorpayGateway(config: Pick<Config, 'RAZORPAY_API_BASE'>, keyring: Keyring): RazorpayGateway {
  const gateways = new Map<string, RazorpayGateway>();
  const current = async () => {
    const { kid, secret } = await keyring.active('RAZORPAY_KEY');
    let gateway = gateways.get(kid);
    if (!gateway) gateways.set(kid, (gateway = createRazorpayGateway(config, JSON.parse(secret) as RazorpayKey)));
    return gateway;
  };
  return {
    keyId: async () => (await current()).keyId(),
    createOrder: async (input) => (await current()).createOrder(input),
    orderPayments: async (id) => (await current()).orderPayments(id),
    verifyCredentials: async () => (await current()).verifyCredentials(),
    refundOnce: async (paymentId, amount, key) => (await current()).refundOnce(paymentId, amount, key),
  };
}

/** Razorpay signs webhooks with HMAC-SHA256 of the raw body (hex) in X-Razorpay-Signature. */
export function verifyRazorpaySignature(rawBody: Buffer, signature: string, secret: string): boolean {
  const expected = Buffer.from(createHmac('sha256', secret).update(rawBody).digest('hex'));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
