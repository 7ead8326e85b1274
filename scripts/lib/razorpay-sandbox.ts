/**
 * A local stand-in for Razorpay's API (api.razorpay.com cannot be reached from our machines),
 * speaking its documented request and response shapes for the calls we make: orders, an
 * order's payments and refunds, behind HTTP basic auth with the key id and secret.
 * `pay()` plays the customer completing (or failing) Razorpay Checkout: it records the payment,
 * with whatever `notes` the customer's browser passed to Checkout, and returns the webhooks
 * Razorpay would send, for the caller to sign and deliver.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface SandboxOrder {
  id: string;
  entity: 'order';
  amount: number;
  amount_paid: number;
  amount_due: number;
  currency: string;
  receipt: string | null;
  status: 'created' | 'attempted' | 'paid';
  attempts: number;
  notes: Record<string, string>;
  created_at: number;
}
interface SandboxPayment {
  id: string;
  entity: 'payment';
  amount: number;
  currency: string;
  status: 'captured' | 'failed' | 'refunded';
  order_id: string;
  method: 'card';
  captured: boolean;
  amount_refunded: number;
  error_code: string | null;
  error_description: string | null;
  notes: Record<string, string>;
  created_at: number;
}
interface SandboxRefund {
  id: string;
  entity: 'refund';
  amount: number;
  currency: string;
  payment_id: string;
  notes: Record<string, string>;
  status: 'processed';
  created_at: number;
}

export interface RazorpayWebhook {
  eventId: string;
  body: string;
}

const id = (prefix: string) => `${prefix}_${randomBytes(7).toString('base64url').replace(/[-_]/g, 'x')}`;
const now = () => Math.floor(Date.now() / 1000);

export async function startRazorpaySandbox(options: {
  port?: number;
  /** Loopback unless told (docker-compose.yml's sandbox container listens on 0.0.0.0). */
  host?: string;
  keyId: string;
  keySecret: string;
  /** Where `POST /sandbox/orders/:id/pay` delivers the resulting webhooks (local development). */
  webhook?: { url: string; secret: string };
}) {
  const orders = new Map<string, SandboxOrder>();
  const payments = new Map<string, SandboxPayment>();
  const refunds: SandboxRefund[] = [];
  const credentials = new Map([[options.keyId, options.keySecret]]);

  function send(res: ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }
  function fail(res: ServerResponse, status: number, code: string, description: string) {
    send(res, status, {
      error: {
        code,
        description,
        source: 'business',
        step: 'payment_initiation',
        reason: 'input_validation_failed',
        metadata: {},
      },
    });
  }
  function authorised(req: IncomingMessage): boolean {
    const [scheme, encoded] = (req.headers.authorization ?? '').split(' ');
    if (scheme !== 'Basic' || !encoded) return false;
    const [key, secret] = Buffer.from(encoded, 'base64').toString().split(':');
    return credentials.get(key) === secret;
  }
  async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString();
    return text ? JSON.parse(text) : {};
  }

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://sandbox');
      const parts = url.pathname.split('/').filter(Boolean); // ['v1', 'orders', ...]
      // Sandbox control (not Razorpay's API): the customer pays; the webhooks go to the shop.
      if (
        req.method === 'POST' &&
        parts[0] === 'sandbox' &&
        parts[1] === 'orders' &&
        parts[3] === 'pay' &&
        options.webhook
      ) {
        const outcome = url.searchParams.get('outcome') === 'failed' ? 'failed' : 'captured';
        // What Razorpay Checkout's `notes` option set in the customer's browser: anything at all.
        const { notes } = (await body(req)) as { notes?: Record<string, string> };
        const { paymentId, webhooks } = sandbox.pay(parts[2], outcome, { notes });
        for (const hook of Object.values(webhooks)) {
          await fetch(options.webhook.url, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'x-razorpay-event-id': hook.eventId,
              'x-razorpay-signature': signRazorpayWebhook(hook.body, options.webhook.secret),
            },
            body: hook.body,
          });
        }
        return send(res, 200, { paymentId, delivered: Object.keys(webhooks) });
      }
      // Sandbox control: generating a key pair in the dashboard (a key rotation in local development).
      if (req.method === 'POST' && url.pathname === '/sandbox/keys') {
        const input = await body(req);
        if (typeof input.keyId !== 'string' || typeof input.keySecret !== 'string')
          return fail(res, 400, 'BAD_REQUEST_ERROR', 'keyId and keySecret are required');
        sandbox.addKey(input.keyId, input.keySecret);
        return send(res, 200, { keyId: input.keyId });
      }
      // Sandbox control: the webhook secret set in the dashboard (a webhook secret rotation in local development).
      if (req.method === 'POST' && url.pathname === '/sandbox/webhook-secret' && options.webhook) {
        const input = await body(req);
        if (typeof input.secret !== 'string' || !input.secret)
          return fail(res, 400, 'BAD_REQUEST_ERROR', 'secret is required');
        options.webhook.secret = input.secret;
        return send(res, 200, { updated: true });
      }
      if (!authorised(req)) return fail(res, 401, 'BAD_REQUEST_ERROR', 'Authentication failed');
      if (req.method === 'GET' && url.pathname === '/v1/orders') {
        const count = Number(url.searchParams.get('count') ?? 10);
        const items = [...orders.values()].reverse().slice(0, count);
        return send(res, 200, { entity: 'collection', count: items.length, items });
      }
      if (req.method === 'POST' && url.pathname === '/v1/orders') {
        const input = await body(req);
        if (!Number.isInteger(input.amount) || (input.amount as number) < 100) {
          return fail(res, 400, 'BAD_REQUEST_ERROR', 'The amount must be atleast INR 1.00');
        }
        const order: SandboxOrder = {
          id: id('order'),
          entity: 'order',
          amount: input.amount as number,
          amount_paid: 0,
          amount_due: input.amount as number,
          currency: String(input.currency ?? 'INR'),
          receipt: (input.receipt as string) ?? null,
          status: 'created',
          attempts: 0,
          notes: (input.notes as Record<string, string>) ?? {},
          created_at: now(),
        };
        orders.set(order.id, order);
        return send(res, 200, order);
      }
      if (req.method === 'GET' && parts[1] === 'orders' && parts[2]) {
        const order = orders.get(parts[2]);
        if (!order) return fail(res, 400, 'BAD_REQUEST_ERROR', 'The id provided does not exist');
        if (parts[3] === 'payments') {
          const items = [...payments.values()].filter((p) => p.order_id === order.id);
          return send(res, 200, { entity: 'collection', count: items.length, items });
        }
        return send(res, 200, order);
      }
      if (parts[1] === 'payments' && parts[2] && (parts[3] === 'refund' || parts[3] === 'refunds')) {
        const payment = payments.get(parts[2]);
        if (!payment) return fail(res, 400, 'BAD_REQUEST_ERROR', 'The id provided does not exist');
        if (req.method === 'GET') {
          const items = refunds.filter((r) => r.payment_id === payment.id);
          return send(res, 200, { entity: 'collection', count: items.length, items });
        }
        const input = await body(req);
        const amount = (input.amount as number) ?? payment.amount - payment.amount_refunded;
        if (payment.status !== 'captured' || amount > payment.amount - payment.amount_refunded) {
          return fail(res, 400, 'BAD_REQUEST_ERROR', 'The refund amount provided is greater than amount captured');
        }
        const refund: SandboxRefund = {
          id: id('rfnd'),
          entity: 'refund',
          amount,
          currency: payment.currency,
          payment_id: payment.id,
          notes: (input.notes as Record<string, string>) ?? {},
          status: 'processed',
          created_at: now(),
        };
        refunds.push(refund);
        payment.amount_refunded += amount;
        if (payment.amount_refunded === payment.amount) payment.status = 'refunded';
        return send(res, 200, refund);
      }
      return fail(res, 404, 'BAD_REQUEST_ERROR', 'The requested URL was not found on the server.');
    })().catch((error: Error) => fail(res, 400, 'BAD_REQUEST_ERROR', error.message));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const sandbox = {
    baseUrl: `http://127.0.0.1:${port}`,
    refunds,
    /** Accepts another key pair (a rotated key). */
    addKey: (keyId: string, keySecret: string) => credentials.set(keyId, keySecret),
    /** The customer pays (or fails to pay) a Razorpay order; answers the webhooks Razorpay sends. */
    pay(
      razorpayOrderId: string,
      outcome: 'captured' | 'failed' = 'captured',
      options: { notes?: Record<string, string> } = {},
    ): { paymentId: string; webhooks: Record<string, RazorpayWebhook> } {
      const order = orders.get(razorpayOrderId);
      if (!order) throw new Error(`no sandbox order ${razorpayOrderId}`);
      const payment: SandboxPayment = {
        id: id('pay'),
        entity: 'payment',
        amount: order.amount,
        currency: order.currency,
        status: outcome,
        order_id: order.id,
        method: 'card',
        captured: outcome === 'captured',
        amount_refunded: 0,
        error_code: outcome === 'failed' ? 'BAD_REQUEST_ERROR' : null,
        error_description: outcome === 'failed' ? 'Payment failed because the card was declined' : null,
        // Set by the customer's browser (Checkout's `notes` option), not by the shop.
        notes: options.notes ?? {},
        created_at: now(),
      };
      payments.set(payment.id, payment);
      order.attempts += 1;
      order.status = outcome === 'captured' ? 'paid' : 'attempted';
      if (outcome === 'captured') {
        order.amount_paid = order.amount;
        order.amount_due = 0;
      }
      const event = (name: string, payload: Record<string, unknown>): RazorpayWebhook => ({
        eventId: id('evt'),
        body: JSON.stringify({
          entity: 'event',
          account_id: 'acc_sandbox',
          event: name,
          contains: Object.keys(payload),
          payload,
          created_at: now(),
        }),
      });
      const webhooks: Record<string, RazorpayWebhook> =
        outcome === 'captured'
          ? {
              'payment.captured': event('payment.captured', { payment: { entity: payment } }),
              'order.paid': event('order.paid', { payment: { entity: payment }, order: { entity: order } }),
            }
          : { 'payment.failed': event('payment.failed', { payment: { entity: payment } }) };
      return { paymentId: payment.id, webhooks };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return sandbox;
}

/** The X-Razorpay-Signature Razorpay sends with a webhook body. */
export function signRazorpayWebhook(body: string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}
