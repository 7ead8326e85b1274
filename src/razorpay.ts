/**
 * Razorpay, behind the few calls we make. The official `razorpay` client does the HTTP; its base
 * URL comes from RAZORPAY_API_BASE so it can talk to the local sandbox (scripts/lib/razorpay-sandbox.ts),
 * which speaks Razorpay's documented request and response shapes, where api.razorpay.com is out of reach.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import Razorpay from 'razorpay';
import type { Config } from './config';

export interface RazorpayPayment {
  id: string;
  order_id: string;
  amount: number;
  currency: string;
  status: 'created' | 'authorized' | 'captured' | 'refunded' | 'failed';
  error_code?: string | null;
  error_description?: string | null;
  notes?: Record<string, string> | unknown[];
}

export interface RazorpayGateway {
  createOrder(input: { amount: number; currency: string; receipt: string; notes: Record<string, string> }): Promise<{ id: string }>;
  orderPayments(razorpayOrderId: string): Promise<RazorpayPayment[]>;
  /** Refunds `paymentId` once per `key`: an earlier refund carrying the same key is returned instead. */
  refundOnce(paymentId: string, amount: number, key: string): Promise<{ id: string }>;
}

/** Razorpay's API errors arrive as `{statusCode, error: {code, description}}`; 4xx will not change on retry. */
export function isPermanentRazorpayError(error: unknown): error is { statusCode: number; error?: { code?: string; description?: string } } {
  const status = (error as { statusCode?: number })?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

export function createRazorpayGateway(config: Pick<Config, 'RAZORPAY_KEY_ID' | 'RAZORPAY_KEY_SECRET' | 'RAZORPAY_API_BASE'>): RazorpayGateway {
  const client = new Razorpay({ key_id: config.RAZORPAY_KEY_ID, key_secret: config.RAZORPAY_KEY_SECRET });
  // The client has no option for its host; its axios instance does.
  (client as unknown as { api: { rq: { defaults: { baseURL: string; timeout: number } } } }).api.rq.defaults.baseURL = config.RAZORPAY_API_BASE;
  (client as unknown as { api: { rq: { defaults: { timeout: number } } } }).api.rq.defaults.timeout = 10_000;
  return {
    async createOrder(input) {
      const order = await client.orders.create({ amount: input.amount, currency: input.currency, receipt: input.receipt, notes: input.notes });
      return { id: order.id };
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
      if (before) return { id: before.id };
      try {
        const refund = await client.payments.refund(paymentId, { amount, notes: { idempotencyKey: key } });
        return { id: refund.id };
      } catch (error) {
        const after = isPermanentRazorpayError(error) ? await earlier() : undefined;
        if (after) return { id: after.id };
        throw error;
      }
    },
  };
}

/** Razorpay signs webhooks with HMAC-SHA256 of the raw body (hex) in X-Razorpay-Signature. */
export function verifyRazorpaySignature(rawBody: Buffer, signature: string, secret: string): boolean {
  const expected = Buffer.from(createHmac('sha256', secret).update(rawBody).digest('hex'));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
