/**
 * A card checkout's first payment attempt as a local activity (patch checkout-payment-local): the
 * checkout is answered in the workflow task that reserved the stock, with no activity task; a
 * payment retry still goes through the task queue; a provider that stays down is tried three
 * times (the checkout policy) under one attempt number, then the order is cancelled as
 * PAYMENT_PROVIDER_UNAVAILABLE. And the danger this patch had to avoid: a Stripe call slow enough
 * to outlast its workflow task (the worker heartbeats the task meanwhile, here with a 2 s
 * workflow task timeout) resolves in a later task, and a patched() asked right after it would
 * replay one task early. Each such history is replayed here, and with RECORD_HISTORIES=1 written
 * for replay.test.ts (-tracing-off: this worker runs the bundle without the tracing interceptors,
 * as production's does with tracing off; replay.test.ts replays them through both bundles).
 */
import { WithStartWorkflowOperation, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, type Duration } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { randomUUID } from 'node:crypto';
import type { Activities } from '../../src/activities';
import { orderWorkflowId } from '../../src/workflows/ids';
import {
  cancelOrderUpdate,
  deliverOrderUpdate,
  getOrderQuery,
  paymentEventSignal,
  placeOrderUpdate,
  retryPaymentUpdate,
  shipOrderUpdate,
  type OrderWorkflowInput,
  type PaymentEvent,
} from '../../src/workflows/order/messages';
import type { orderWorkflow } from '../../src/workflows/order/workflow';
import type { Actor } from '../../src/workflows/vocabulary';
import { orderStubs, UNIT_PRICE } from '../helpers/order-stubs';
import { eventually } from '../helpers/stack';
import {
  keepHistory,
  recording,
  replayThroughBothBundles,
  updateRefusal,
  useStubWorker,
} from '../helpers/workflow-worker';

const EventType = temporal.api.enums.v1.EventType;
/** Orders whose id starts so find the provider down: every try to open a payment fails as an outage does. */
const PROVIDER_DOWN = 'd0d0';

/** Payment attempts held (by order id) until the test lets them go. */
const held = new Map<string, { reached: boolean; release: () => void; released: Promise<void> }>();
function hold(orderId: string) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const gate = { reached: false, release, released };
  held.set(orderId, gate);
  return gate;
}

const customer: Actor = { id: randomUUID(), role: 'CUSTOMER' };
const admin: Actor = { id: randomUUID(), role: 'ADMIN' };

const stubs: Partial<Activities> = {
  ...orderStubs(admin),
  async createPaymentIntent(input) {
    const gate = held.get(input.orderId);
    if (gate) {
      gate.reached = true;
      await gate.released;
    }
    if (input.orderId.startsWith(PROVIDER_DOWN))
      throw ApplicationFailure.create({ type: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:12111' });
    return {
      paymentIntentId: `pi_${input.orderId.slice(0, 8)}_${input.attempt}`,
      clientSecret: `pi_${input.attempt}_secret_test`,
    };
  },
  async createRazorpayOrder(input) {
    return { razorpayOrderId: `order_${input.orderId.slice(0, 8)}_${input.attempt}`, keyId: 'rzp_test_stub' };
  },
};
const { wrapped, callsOf } = recording(stubs, (input) => String(input.orderId ?? input.workflowId));
const worker = useStubWorker(wrapped);

/** Checkout as the API does it (update-with-start), with a short workflow task timeout if asked. */
async function placeOrder(options: { orderId?: string; provider?: 'RAZORPAY'; workflowTaskTimeout?: Duration } = {}) {
  const orderId = options.orderId ?? randomUUID();
  const input: OrderWorkflowInput = {
    orderId,
    customerId: customer.id,
    items: [{ productId: randomUUID(), quantity: 2 }],
    paymentMethod: 'CARD',
    currency: 'USD',
    reservationTtlMs: 60_000,
    ...(options.provider ? { provider: options.provider } : {}),
  };
  const start = new WithStartWorkflowOperation<typeof orderWorkflow>('orderWorkflow', {
    workflowId: orderWorkflowId(orderId),
    taskQueue: worker.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'FAIL',
    ...(options.workflowTaskTimeout ? { workflowTaskTimeout: options.workflowTaskTimeout } : {}),
  });
  const placed = worker.client.workflow.executeUpdateWithStart(placeOrderUpdate, { startWorkflowOperation: start });
  // Not start.workflowHandle(): it resolves with the update's answer, which a held call holds back.
  const handle = worker.client.workflow.getHandle<typeof orderWorkflow>(orderWorkflowId(orderId));
  return { orderId, handle, placed };
}

function paid(orderId: string, paymentIntentId: string): PaymentEvent {
  return {
    provider: 'STRIPE',
    eventId: `evt_${randomUUID()}`,
    outcome: 'SUCCEEDED',
    providerPaymentId: paymentIntentId,
    amount: 2 * UNIT_PRICE,
    currency: 'USD',
  };
}

async function events(handle: WorkflowHandle) {
  return (await handle.fetchHistory()).events ?? [];
}

/** The workflow's history up to the checkout's answer: its workflow tasks and activities. */
async function untilCheckoutAnswered(handle: WorkflowHandle) {
  const all = await events(handle);
  const answered = all.findIndex((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED);
  expect(answered).toBeGreaterThan(0);
  const before = all.slice(0, answered);
  return {
    workflowTasks: before.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).length,
    activities: before
      .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name),
    localActivityMarkers: before.filter(
      (e) =>
        e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED &&
        e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
    ).length,
  };
}

/** Pays, ships and delivers a placed order: the rest of its life, with every patch it asks. */
async function payShipDeliver(handle: WorkflowHandle<typeof orderWorkflow>) {
  const pending = await handle.query(getOrderQuery);
  await handle.signal(paymentEventSignal, paid(pending.orderId, pending.paymentIntentId!));
  await eventually(async () => (await handle.query(getOrderQuery)).status === 'CONFIRMED', 'CONFIRMED');
  await handle.executeUpdate(shipOrderUpdate, { args: [{ actor: admin, trackingNumber: 'LOCAL-1' }] });
  await handle.executeUpdate(deliverOrderUpdate, { args: [{ actor: admin }] });
  expect(await handle.result()).toMatchObject({ status: 'DELIVERED', paymentStatus: 'PAID' });
}

test('a card checkout is answered in one workflow task: the PaymentIntent opens as a local activity', async () => {
  const { orderId, handle, placed } = await placeOrder();
  expect(await placed).toMatchObject({
    orderId,
    status: 'PENDING',
    paymentStatus: 'PENDING',
    clientSecret: 'pi_1_secret_test',
  });
  // The reservation and the PaymentIntent: two local activities, no activity task, one workflow task.
  expect(await untilCheckoutAnswered(handle)).toEqual({ workflowTasks: 1, activities: [], localActivityMarkers: 2 });
  expect(callsOf(orderId, 'createPaymentIntent').map((c) => c.input)).toEqual([
    { orderId, attempt: 1, amount: 2500, currency: 'USD' },
  ]);
  await payShipDeliver(handle);
  await replayThroughBothBundles(handle);
  await keepHistory('order-checkout-payment-local-happy-path-tracing-off', handle);
});

test('a Razorpay checkout opens its Razorpay order as a local activity too', async () => {
  const { orderId, handle, placed } = await placeOrder({ provider: 'RAZORPAY' });
  expect(await placed).toMatchObject({
    razorpayOrderId: `order_${orderId.slice(0, 8)}_1`,
    razorpayKeyId: 'rzp_test_stub',
  });
  expect(await untilCheckoutAnswered(handle)).toEqual({ workflowTasks: 1, activities: [], localActivityMarkers: 2 });
  await handle.signal(paymentEventSignal, {
    ...paid(orderId, `order_${orderId.slice(0, 8)}_1`),
    provider: 'RAZORPAY',
    chargeId: 'pay_1',
  });
  await eventually(async () => (await handle.query(getOrderQuery)).status === 'CONFIRMED', 'CONFIRMED');
  await handle.terminate('test finished');
  await replayThroughBothBundles(handle);
  await keepHistory('order-checkout-payment-local-razorpay-tracing-off', handle);
});

test('a payment retry opens its new PaymentIntent through the task queue, as before', async () => {
  const { orderId, handle, placed } = await placeOrder();
  await placed;
  await handle.signal(paymentEventSignal, {
    ...paid(orderId, `pi_${orderId.slice(0, 8)}_1`),
    outcome: 'FAILED',
    failureReason: 'card_declined',
  });
  await eventually(async () => (await handle.query(getOrderQuery)).paymentStatus === 'FAILED', 'payment FAILED');
  const retry = await handle.executeUpdate(retryPaymentUpdate, { args: [{ actor: customer }] });
  expect(retry).toMatchObject({ paymentAttempt: 2, clientSecret: 'pi_2_secret_test' });
  const scheduled = (await events(handle))
    .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
    .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name);
  expect(scheduled.filter((name) => name === 'createPaymentIntent')).toHaveLength(1);
  expect(callsOf(orderId, 'createPaymentIntent').map((c) => c.input.attempt)).toEqual([1, 2]);
  await handle.terminate('test finished');
  await replayThroughBothBundles(handle);
  await keepHistory('order-checkout-payment-local-payment-retry-tracing-off', handle);
});

test('a provider that stays down: three tries under one attempt number, then cancelled as PAYMENT_PROVIDER_UNAVAILABLE', async () => {
  const orderId = `${PROVIDER_DOWN}${randomUUID().slice(PROVIDER_DOWN.length)}`;
  const { handle, placed } = await placeOrder({ orderId });
  const refused = await updateRefusal(placed);
  expect(refused).toMatchObject({ type: 'PAYMENT_PROVIDER_UNAVAILABLE' });
  expect(refused.message).toMatch(/^Payment could not be started: connect ECONNREFUSED/);
  // The checkout policy's three attempts, each the same attempt 1: one idempotency key, one intent at most.
  expect(callsOf(orderId, 'createPaymentIntent').map((c) => c.input.attempt)).toEqual([1, 1, 1]);
  const order = await handle.result();
  expect(order).toMatchObject({ status: 'CANCELLED', cancelReason: 'PAYMENT_PROVIDER_UNAVAILABLE' });
  expect(order.checkoutRefusal).toMatchObject({ code: 'PAYMENT_PROVIDER_UNAVAILABLE' });
  expect(callsOf(orderId, 'cancelOrder').map((c) => c.input.reason)).toEqual(['PAYMENT_PROVIDER_UNAVAILABLE']);
  await replayThroughBothBundles(handle);
  await keepHistory('order-checkout-payment-local-provider-unavailable-tracing-off', handle);
});

describe('a Stripe call slower than its workflow task (2 s timeout: the worker heartbeats the task at 1.6 s)', () => {
  // A test that failed midway lets its held call go, or the worker could never shut down.
  afterEach(() => held.forEach((gate) => gate.release()));

  /** Holds the order's PaymentIntent until `heartbeats` workflow tasks completed while it ran. */
  async function slowCheckout(heartbeats: number) {
    const orderId = randomUUID();
    const gate = hold(orderId);
    const placing = await placeOrder({ orderId, workflowTaskTimeout: '2s' });
    await eventually(async () => {
      if (!gate.reached) return false;
      const completed = (await events(placing.handle)).filter(
        (e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
      );
      return completed.length >= heartbeats;
    }, `${heartbeats} workflow task(s) completed while the PaymentIntent is held`);
    return { ...placing, gate };
  }

  test.each([1, 2])(
    'held over %i workflow task heartbeat(s): answered, paid, shipped and delivered; the history replays',
    async (heartbeats) => {
      const { handle, placed, gate } = await slowCheckout(heartbeats);
      gate.release();
      expect(await placed).toMatchObject({ status: 'PENDING', clientSecret: 'pi_1_secret_test' });
      const answered = await untilCheckoutAnswered(handle);
      expect(answered.activities).toEqual([]);
      expect(answered.workflowTasks).toBeGreaterThan(heartbeats);
      await payShipDeliver(handle);
      await replayThroughBothBundles(handle);
      await keepHistory(`order-checkout-payment-local-outlasting-${heartbeats}-task-heartbeats-tracing-off`, handle);
    },
  );

  test('a cancellation sent meanwhile is refused (nothing is placed yet); once answered, the order can be cancelled; the history replays', async () => {
    const { orderId, handle, placed, gate } = await slowCheckout(1);
    const cancel = () =>
      handle.executeUpdate(cancelOrderUpdate, { args: [{ actor: customer, reason: 'changed my mind' }] });
    // Its validator runs in a task the worker started while the PaymentIntent is still held.
    expect(await updateRefusal(cancel())).toMatchObject({ type: 'INVALID_ORDER_STATE' });
    gate.release();
    expect(await placed).toMatchObject({ status: 'PENDING', clientSecret: 'pi_1_secret_test' });
    expect(await cancel()).toMatchObject({ status: 'CANCELLED', cancelReason: 'CANCELLED_BY_CUSTOMER' });
    await handle.result();
    // Cancelling closes the PaymentIntent it opened, so it cannot be paid.
    expect(callsOf(orderId, 'cancelPaymentIntent').map((c) => c.input.paymentIntentId)).toEqual([
      `pi_${orderId.slice(0, 8)}_1`,
    ]);
    await replayThroughBothBundles(handle);
    await keepHistory('order-checkout-payment-local-cancel-refused-while-opening-tracing-off', handle);
  });

  test('payment news signalled meanwhile is checked and recorded in one step, and pays the order; the history replays', async () => {
    const { orderId, handle, placed, gate } = await slowCheckout(1);
    await handle.signal(paymentEventSignal, paid(orderId, `pi_${orderId.slice(0, 8)}_1`));
    // Taken by its handler in a task started while the PaymentIntent is still held.
    await eventually(async () => {
      const types = (await events(handle)).map((e) => e.eventType);
      const signalled = types.indexOf(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
      return signalled > 0 && types.indexOf(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, signalled) > signalled;
    }, 'the signal taken while the PaymentIntent is held');
    gate.release();
    await placed;
    await eventually(async () => (await handle.query(getOrderQuery)).status === 'CONFIRMED', 'CONFIRMED');
    expect(callsOf(orderId, 'recordSignalledPayment')).toHaveLength(1);
    await handle.executeUpdate(shipOrderUpdate, { args: [{ actor: admin, trackingNumber: 'LOCAL-2' }] });
    await handle.executeUpdate(deliverOrderUpdate, { args: [{ actor: admin }] });
    await handle.result();
    await replayThroughBothBundles(handle);
    await keepHistory('order-checkout-payment-local-paid-while-opening-tracing-off', handle);
  });
});
