/**
 * The webhook parsers (src/payments/webhook-events.ts): what a verified Stripe or Razorpay event
 * means for the webhook workflow, routed only by the ids we created, and a malformed body
 * refused as MALFORMED_EVENT rather than guessed at.
 */
import { randomUUID } from 'node:crypto';
import { MalformedEventError, razorpayWebhookInput, stripeWebhookInput } from '../../src/payments/webhook-events';

const intent = { id: 'pi_1', amount: 4599, amount_received: 4599, currency: 'usd' };

test('a Stripe payment_intent.succeeded is a SUCCEEDED payment of the PaymentIntent, in capitals', () => {
  expect(stripeWebhookInput({ id: 'evt_1', type: 'payment_intent.succeeded', data: { object: intent } })).toEqual({
    provider: 'STRIPE',
    eventId: 'evt_1',
    eventType: 'payment_intent.succeeded',
    payment: {
      provider: 'STRIPE',
      eventId: 'evt_1',
      outcome: 'SUCCEEDED',
      providerPaymentId: 'pi_1',
      amount: 4599,
      currency: 'USD',
      failureReason: undefined,
    },
  });
});

test("a failed Stripe payment carries the card's reason; an event we do not act on carries nothing", () => {
  const failed = stripeWebhookInput({
    id: 'evt_2',
    type: 'payment_intent.payment_failed',
    data: { object: { ...intent, amount_received: 0, last_payment_error: { message: 'Your card was declined.' } } },
  });
  expect(failed.payment).toMatchObject({ outcome: 'FAILED', amount: 4599, failureReason: 'Your card was declined.' });
  expect(stripeWebhookInput({ id: 'evt_3', type: 'customer.created', data: { object: {} } })).toEqual({
    provider: 'STRIPE',
    eventId: 'evt_3',
    eventType: 'customer.created',
  });
});

test('Stripe refund events settle only our refunds (metadata.refundId), by their status', () => {
  const refundId = randomUUID();
  const refund = (status: string, metadata: Record<string, string> = { refundId }) => ({
    id: `re_${status}`,
    status,
    metadata,
  });
  const outcomes = ['succeeded', 'failed', 'canceled', 'pending'].map(
    (status) =>
      stripeWebhookInput({ id: `evt_${status}`, type: 'refund.updated', data: { object: refund(status) } }).refunds?.[0]
        ?.outcome,
  );
  expect(outcomes).toEqual(['SUCCEEDED', 'FAILED', 'FAILED', 'PENDING']);
  // charge.refunded lists the charge's refunds: a refund made on the dashboard (no refundId) is not ours.
  const charge = stripeWebhookInput({
    id: 'evt_charge',
    type: 'charge.refunded',
    data: { object: { refunds: { data: [refund('succeeded'), refund('succeeded', {})] } } },
  });
  expect(charge.refunds).toEqual([
    {
      refundId,
      providerRefundId: 're_succeeded',
      outcome: 'SUCCEEDED',
      eventId: 'evt_charge',
      failureReason: undefined,
    },
  ]);
});

test('a Stripe event without a valid id, or a payment event without a PaymentIntent, is malformed', () => {
  expect(() => stripeWebhookInput({ id: 'evt 1; DROP', type: 'payment_intent.succeeded' })).toThrow(
    MalformedEventError,
  );
  expect(() =>
    stripeWebhookInput({ id: 'evt_4', type: 'payment_intent.succeeded', data: { object: { id: 'pi_1' } } }),
  ).toThrow('does not carry a valid PaymentIntent');
});

const razorpayPayment = (notes: unknown = []) => ({
  event: 'payment.captured',
  payload: {
    payment: { entity: { id: 'pay_1', order_id: 'order_R1', amount: 49900, currency: 'inr', notes } },
  },
});

test("a Razorpay payment.captured is routed by the Razorpay order we opened, never by the payment's notes", () => {
  const input = razorpayWebhookInput('evt_r1', razorpayPayment({ orderId: randomUUID() }));
  expect(input.payment).toEqual({
    provider: 'RAZORPAY',
    eventId: 'evt_r1',
    outcome: 'SUCCEEDED',
    providerPaymentId: 'order_R1',
    chargeId: 'pay_1',
    amount: 49900,
    currency: 'INR',
    failureReason: undefined,
  });
});

test('Razorpay refund events settle our refunds by the key in their notes; a bad event id or body is malformed', () => {
  const refundId = randomUUID();
  const refundEvent = (event: string, idempotencyKey: string) => ({
    event,
    payload: { refund: { entity: { id: 'rfnd_1', notes: { idempotencyKey } } } },
  });
  expect(razorpayWebhookInput('evt_r2', refundEvent('refund.failed', `refund-${refundId}`)).refunds).toEqual([
    { refundId, providerRefundId: 'rfnd_1', outcome: 'FAILED', eventId: 'evt_r2' },
  ]);
  expect(razorpayWebhookInput('evt_r3', refundEvent('refund.processed', 'someone-else')).refunds).toEqual([]);
  expect(() => razorpayWebhookInput('', razorpayPayment())).toThrow('X-Razorpay-Event-Id');
  expect(() => razorpayWebhookInput('evt_r4', { event: 'payment.captured' })).toThrow(MalformedEventError);
  expect(() => razorpayWebhookInput('evt_r5', { event: 'payment.captured', payload: {} })).toThrow(
    'does not carry a payment',
  );
});
