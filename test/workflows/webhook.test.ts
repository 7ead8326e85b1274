/**
 * The webhook workflow's logic against the real Temporal dev server, with stubbed activities:
 * what it does with an event whose order workflow has finished (the signal finds no running
 * workflow). A late payment is refunded; a refund the provider refuses alerts every admin and
 * leaves the event FAILED; the payment that paid the order, a failed payment and a refund
 * outcome nobody waits for need nothing; an event for no order of ours fails without retrying.
 * With RECORD_HISTORIES=1 scenarios write their histories for replay.test.ts.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import type { Activities } from '../../src/activities';
import type { PaymentEvent } from '../../src/workflows/order/messages';
import type { WebhookOutcome, WebhookWorkflowInput } from '../../src/workflows/webhook/messages';
import type { webhookWorkflow } from '../../src/workflows/webhook/workflow';
import { keepHistory, recording, useStubWorker } from '../helpers/workflow-worker';
import { refundWorkflowId, webhookWorkflowId } from '../../src/workflows/ids';

/** Orders whose workflows have finished (none runs under `order-<id>` on this task queue). */
const CLOSED_ORDER = randomUUID();
const PAID_BY = 'pi_paid_the_order';
const REFUSED_BY_PROVIDER = 'pi_disputed';
/** A refund recorded COMPLETED whose workflow has finished. */
const COMPLETED_REFUND = randomUUID();

const stubs: Partial<Activities> = {
  async resolvePaymentOrder(input) {
    if (input.orderId !== CLOSED_ORDER)
      throw ApplicationFailure.create({
        type: 'UNKNOWN_ORDER',
        message: `No order for payment ${input.providerPaymentId}`,
        nonRetryable: true,
      });
    return { orderId: CLOSED_ORDER };
  },
  async isOrderPaidBy(input) {
    return input.providerPaymentId === PAID_BY;
  },
  async refundUnexpectedPayment(input) {
    if (input.providerPaymentId === REFUSED_BY_PROVIDER) {
      throw ApplicationFailure.create({
        type: 'STRIPE_CHARGE_DISPUTED',
        message: 'Charge ch_9 has been disputed.',
        nonRetryable: true,
      });
    }
    return { refundId: `re_${input.providerPaymentId}` };
  },
  async reverseCompletedRefund(input) {
    return input.refundId === COMPLETED_REFUND
      ? { orderId: CLOSED_ORDER, amount: 1200, currency: 'USD', paymentStatus: 'PAID' as const }
      : undefined;
  },
  async sendOrderEmail() {},
  async alertAdmins() {},
  async recordWebhookOutcome() {},
};
const { wrapped, callsOf } = recording(stubs, (input) =>
  String(input.eventId ?? input.providerPaymentId ?? input.key ?? `refund:${String(input.refundId)}`),
);

const worker = useStubWorker(wrapped);

function paymentEvent(
  providerPaymentId: string,
  outcome: PaymentEvent['outcome'] = 'SUCCEEDED',
  orderId: string = CLOSED_ORDER,
): WebhookWorkflowInput {
  const eventId = `evt_${randomUUID()}`;
  const type = outcome === 'SUCCEEDED' ? 'payment_intent.succeeded' : 'payment_intent.payment_failed';
  return {
    provider: 'STRIPE',
    eventId,
    eventType: type,
    orderId,
    payment: { provider: 'STRIPE', eventId, outcome, providerPaymentId, amount: 2700, currency: 'usd' },
  };
}

function start(input: WebhookWorkflowInput) {
  return worker.client.workflow.start<typeof webhookWorkflow>('webhookWorkflow', {
    workflowId: webhookWorkflowId('STRIPE', input.eventId),
    taskQueue: worker.taskQueue,
    args: [input],
  });
}

/** What the workflow wrote to the webhook inbox for the event. */
const recorded = (eventId: string) =>
  callsOf(eventId, 'recordWebhookOutcome').map((c) => ({ status: c.input.status, detail: c.input.detail }));

test('a payment for an order that has closed is refunded in full and the customer told', async () => {
  const input = paymentEvent('pi_late');
  const handle = await start(input);
  const outcome: WebhookOutcome = await handle.result();
  expect(outcome).toEqual({
    status: 'PROCESSED',
    detail: `order-${CLOSED_ORDER} had closed: payment pi_late refunded in full (re_pi_late)`,
  });
  expect(callsOf('pi_late', 'refundUnexpectedPayment').map((c) => c.input)).toEqual([
    {
      orderId: CLOSED_ORDER,
      provider: 'STRIPE',
      providerPaymentId: 'pi_late',
      amount: 2700,
      reason: 'paid after the order had closed',
    },
  ]);
  expect(callsOf('pi_late', 'sendOrderEmail').map((c) => c.input.kind)).toEqual(['PAYMENT_REFUNDED']);
  expect(recorded(input.eventId)).toEqual([outcome]);
  await keepHistory('webhook-late-payment-refunded', handle);
});

test('a late payment the provider will not refund: every admin is alerted, the customer is not told, the event is FAILED', async () => {
  const input = paymentEvent(REFUSED_BY_PROVIDER);
  const handle = await start(input);
  const failure = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  expect(((failure as WorkflowFailedError).cause as ApplicationFailure).type).toBe('WEBHOOK_FAILED');
  const alerts = callsOf(`refund-refused-${REFUSED_BY_PROVIDER}`, 'alertAdmins');
  expect(alerts).toHaveLength(1);
  expect(alerts[0].input.subject).toBe(`Order ${CLOSED_ORDER}: a payment to give back was not refunded`);
  expect(alerts[0].input.text).toContain('Charge ch_9 has been disputed.');
  expect(alerts[0].input.text).toContain(`workflow ${handle.workflowId}`);
  expect(callsOf(REFUSED_BY_PROVIDER, 'sendOrderEmail')).toEqual([]);
  expect(recorded(input.eventId)).toEqual([
    {
      status: 'FAILED',
      detail: `order-${CLOSED_ORDER} had closed; the refund of ${REFUSED_BY_PROVIDER} was refused (Charge ch_9 has been disputed.); admins alerted`,
    },
  ]);
  await keepHistory('webhook-late-refund-refused', handle);
});

test('news of the payment that paid the order, or of a failed payment, refunds nothing', async () => {
  for (const [input, detail] of [
    [paymentEvent(PAID_BY), `${PAID_BY} already paid order ${CLOSED_ORDER}: nothing to do`],
    [paymentEvent('pi_declined', 'FAILED'), `order-${CLOSED_ORDER} has finished; a failed payment needs nothing`],
  ] as const) {
    expect(await (await start(input)).result()).toEqual({ status: 'PROCESSED', detail });
    expect(callsOf(input.payment!.providerPaymentId, 'refundUnexpectedPayment')).toEqual([]);
  }
});

test('a refund outcome no running refund waits for is processed with nothing to do', async () => {
  const eventId = `evt_${randomUUID()}`;
  const input: WebhookWorkflowInput = {
    provider: 'STRIPE',
    eventId,
    eventType: 'refund.updated',
    refunds: [{ refundId: randomUUID(), providerRefundId: 're_1', outcome: 'SUCCEEDED', eventId }],
  };
  expect(await (await start(input)).result()).toEqual({
    status: 'PROCESSED',
    detail: 'refund.updated: delivered to no running refund',
  });
});

test('a finished refund the provider now reports failed is reversed and every admin told; one not completed needs nothing', async () => {
  const eventId = `evt_${randomUUID()}`;
  const notCompleted = randomUUID();
  const input: WebhookWorkflowInput = {
    provider: 'STRIPE',
    eventId,
    eventType: 'refund.updated',
    refunds: [
      {
        refundId: COMPLETED_REFUND,
        providerRefundId: 're_late_fail',
        outcome: 'FAILED',
        eventId,
        failureReason: 'expired_or_canceled_card',
      },
      { refundId: notCompleted, providerRefundId: 're_other', outcome: 'FAILED', eventId },
    ],
  };
  const handle = await start(input);
  expect(await handle.result()).toEqual({
    status: 'PROCESSED',
    detail: `refund.updated: delivered to no running refund; reported failed after completion: ${COMPLETED_REFUND}`,
  });
  expect(callsOf(`refund:${COMPLETED_REFUND}`, 'reverseCompletedRefund').map((c) => c.input.reason)).toEqual([
    'STRIPE reported refund re_late_fail failed after it was completed (expired_or_canceled_card)',
  ]);
  expect(callsOf(`refund:${notCompleted}`, 'reverseCompletedRefund')).toHaveLength(1);
  const alerts = callsOf(`refund-reversed-${COMPLETED_REFUND}`, 'alertAdmins');
  expect(alerts.map((a) => a.input.subject)).toEqual([
    `Refund ${COMPLETED_REFUND} failed after completion: the customer has not been paid back`,
  ]);
  expect(callsOf(`refund-reversed-${notCompleted}`, 'alertAdmins')).toEqual([]);
  await keepHistory('webhook-completed-refund-failed', handle);
});

test('a completed refund reported failed while its workflow still runs is reversed as well', async () => {
  // A refund workflow that has not closed yet (here it never gets past its first step).
  const still = await worker.client.workflow.start('refundWorkflow', {
    workflowId: refundWorkflowId(COMPLETED_REFUND),
    taskQueue: worker.taskQueue,
    args: [
      {
        refundId: COMPLETED_REFUND,
        orderId: CLOSED_ORDER,
        reason: 'x',
        requestedBy: { id: 'admin', role: 'ADMIN' },
        autoApproveTrusted: false,
        reminderAfterMs: 60_000,
        settleCheckAfterMs: 60_000,
      },
    ],
  });
  try {
    const eventId = `evt_${randomUUID()}`;
    const input: WebhookWorkflowInput = {
      provider: 'RAZORPAY',
      eventId,
      eventType: 'refund.failed',
      refunds: [{ refundId: COMPLETED_REFUND, providerRefundId: 'rfnd_1', outcome: 'FAILED', eventId }],
    };
    expect(await (await start(input)).result()).toEqual({
      status: 'PROCESSED',
      detail: `refund.failed: delivered to refund-${COMPLETED_REFUND}; reported failed after completion: ${COMPLETED_REFUND}`,
    });
    expect(callsOf(`refund:${COMPLETED_REFUND}`, 'reverseCompletedRefund').at(-1)!.input.reason).toBe(
      'RAZORPAY reported refund rfnd_1 failed after it was completed',
    );
  } finally {
    await still.terminate('test finished');
  }
});

test('a payment for no order of ours is recorded FAILED with the reason, at once', async () => {
  const input = paymentEvent('pi_stranger', 'SUCCEEDED', 'not-an-order');
  await expect((await start(input)).result()).rejects.toBeInstanceOf(WorkflowFailedError);
  expect(recorded(input.eventId)).toEqual([{ status: 'FAILED', detail: 'No order for payment pi_stranger' }]);
  expect(callsOf('pi_stranger', 'refundUnexpectedPayment')).toEqual([]);
});
