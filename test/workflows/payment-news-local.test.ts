/**
 * A signalled payment's one step as a local activity (patch payment-news-local): the news is
 * verified, the payment recorded and the order CONFIRMED within the workflow task that took the
 * signal, its confirmation email scheduled there too; a card order takes 3 workflow tasks to its
 * email (checkout; the news; the email done) and one activity task, the email's. Unverified news
 * and news no stored event names still move nothing, as when the step was queued. And the danger
 * this patch had to avoid: a step slow enough to outlast its workflow task (the worker heartbeats
 * the task meanwhile, here with a 2 s workflow task timeout) resolves in a later task, with
 * whatever arrived meanwhile (a cancellation, more news), and a patched() asked right after it
 * would replay one task early. Each history is replayed here, and with RECORD_HISTORIES=1 written
 * for replay.test.ts (-tracing-off: this worker runs the bundle without the tracing interceptors).
 */
import { WithStartWorkflowOperation, WorkflowUpdateStage, type WorkflowHandle } from '@temporalio/client';
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
  shipOrderUpdate,
  type OrderView,
  type OrderWorkflowInput,
  type PaymentEvent,
} from '../../src/workflows/order/messages';
import type { orderWorkflow } from '../../src/workflows/order/workflow';
import { CANCEL_REFUSED_ONCE_PAID, PAYMENT_NEWS_LOCAL } from '../../src/workflows/order/patches';
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

/** One-step calls held (by order id) until the test lets them go; each holds the next call only. */
const held = new Map<string, { reached: boolean; release: () => void; released: Promise<void> }>();
function hold(orderId: string) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const gate = { reached: false, release, released };
  held.set(orderId, gate);
  return gate;
}
/** Event ids whose stored webhook event says otherwise (typed into Temporal by hand). */
const unverifiable = new Set<string>();
/** Event ids no stored webhook event has: only the provider can vouch for them. */
const notStored = new Set<string>();
/** Orders whose one step fails once as a lost connection does (retried by the local policy). */
const failsOnce = new Set<string>();

const customer: Actor = { id: randomUUID(), role: 'CUSTOMER' };
const admin: Actor = { id: randomUUID(), role: 'ADMIN' };

const stubs: Partial<Activities> = {
  ...orderStubs(admin),
  async recordSignalledPayment(input) {
    const gate = held.get(input.orderId);
    if (gate) {
      held.delete(input.orderId);
      gate.reached = true;
      await gate.released;
    }
    const { eventId } = input.event;
    if (notStored.has(eventId)) return { outcome: 'NOT_STORED' };
    if (unverifiable.has(eventId))
      return { outcome: 'UNVERIFIED', reason: `stored STRIPE event ${eventId} reports another payment` };
    if (failsOnce.delete(input.orderId))
      throw ApplicationFailure.create({ type: 'ECONNRESET', message: 'the database connection was reset' });
    return { outcome: 'RECORDED' };
  },
  async verifyPaymentNews() {
    return { verified: true, by: 'provider' };
  },
};
const { wrapped, callsOf } = recording(stubs, (input) => String(input.orderId ?? input.workflowId));
const worker = useStubWorker(wrapped);

/** Checkout as the API does it (update-with-start), with a short workflow task timeout if asked. */
async function placeOrder(options: { workflowTaskTimeout?: Duration } = {}) {
  const orderId = randomUUID();
  const input: OrderWorkflowInput = {
    orderId,
    customerId: customer.id,
    items: [{ productId: randomUUID(), quantity: 2 }],
    paymentMethod: 'CARD',
    currency: 'USD',
    reservationTtlMs: 60_000,
  };
  const start = new WithStartWorkflowOperation<typeof orderWorkflow>('orderWorkflow', {
    workflowId: orderWorkflowId(orderId),
    taskQueue: worker.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'FAIL',
    ...(options.workflowTaskTimeout ? { workflowTaskTimeout: options.workflowTaskTimeout } : {}),
  });
  await worker.client.workflow.executeUpdateWithStart(placeOrderUpdate, { startWorkflowOperation: start });
  const handle = worker.client.workflow.getHandle<typeof orderWorkflow>(orderWorkflowId(orderId));
  return { orderId, handle, intent: (await handle.query(getOrderQuery)).paymentIntentId! };
}

function paid(paymentIntentId: string): PaymentEvent {
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

type HistoryEvent = Awaited<ReturnType<typeof events>>[number];

/** Workflow tasks, activities and local activities among `events`. */
function countsOf(some: HistoryEvent[]) {
  return {
    workflowTasks: some.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).length,
    activities: some
      .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name),
    localActivityMarkers: some.filter(
      (e) =>
        e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED &&
        e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
    ).length,
  };
}

/** The patches whose markers `some` holds, in order. */
function patchesIn(some: HistoryEvent[]): string[] {
  return some
    .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')
    .map((e) => e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data)
    .map((data) => (JSON.parse(Buffer.from(data!).toString()) as { id: string }).id);
}

/** The history from the first signal on: what the payment's news took. */
async function sinceTheNews(handle: WorkflowHandle) {
  const all = await events(handle);
  const signalled = all.findIndex((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
  expect(signalled).toBeGreaterThan(0);
  return all.slice(signalled);
}

async function order(handle: WorkflowHandle<typeof orderWorkflow>): Promise<OrderView> {
  return handle.query(getOrderQuery);
}

async function untilConfirmed(handle: WorkflowHandle<typeof orderWorkflow>) {
  return eventually(async () => {
    const now = await order(handle);
    return now.status === 'CONFIRMED' && now;
  }, 'CONFIRMED');
}

/** Waits until the confirmation email's activity completed (the last workflow task to CONFIRMED). */
async function untilEmailed(handle: WorkflowHandle) {
  await eventually(
    async () => (await events(handle)).some((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED),
    'the confirmation email sent',
  );
  // Its completion's workflow task too.
  await eventually(async () => {
    const all = await events(handle);
    return all.at(-1)?.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED;
  }, 'the email completion taken');
}

async function shipAndDeliver(handle: WorkflowHandle<typeof orderWorkflow>, tracking: string) {
  await handle.executeUpdate(shipOrderUpdate, { args: [{ actor: admin, trackingNumber: tracking }] });
  await handle.executeUpdate(deliverOrderUpdate, { args: [{ actor: admin }] });
  expect(await handle.result()).toMatchObject({ status: 'DELIVERED', paymentStatus: 'PAID' });
}

test('a card order is CONFIRMED in the workflow task that took its payment news: 3 tasks, one activity (the email)', async () => {
  const { orderId, handle, intent } = await placeOrder();
  const news = paid(intent);
  await handle.signal(paymentEventSignal, news);
  const confirmed = await untilConfirmed(handle);
  expect(confirmed).toMatchObject({ paymentStatus: 'PAID', paymentIntentId: intent });
  await untilEmailed(handle);
  const all = await events(handle);
  // Checkout (reservation and PaymentIntent, local), the news (its one step, local), the email done.
  expect(countsOf(all)).toEqual({ workflowTasks: 3, activities: ['sendOrderEmail'], localActivityMarkers: 3 });
  // The news' task: the one step, CONFIRMED and the email scheduled, in that one task.
  expect(countsOf(await sinceTheNews(handle))).toEqual({
    workflowTasks: 2,
    activities: ['sendOrderEmail'],
    localActivityMarkers: 1,
  });
  // Decided at checkout, in its first task, with the patch the rest of the news' task may ask.
  const firstTask = all.slice(
    0,
    all.findIndex((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED),
  );
  expect(patchesIn(firstTask)).toEqual(expect.arrayContaining([PAYMENT_NEWS_LOCAL, CANCEL_REFUSED_ONCE_PAID]));
  expect(patchesIn(await sinceTheNews(handle))).toEqual([]);
  expect(callsOf(orderId, 'recordSignalledPayment').map((c) => c.input)).toEqual([
    {
      orderId,
      attempt: 1,
      event: news,
      confirmedBy: `STRIPE webhook ${news.eventId}`,
      confirm: { actor: { id: 'system', role: 'SYSTEM' } },
    },
  ]);
  expect(callsOf(orderId, 'verifyPaymentNews')).toEqual([]);
  expect(callsOf(orderId, 'confirmOrder')).toEqual([]);
  // Once CONFIRMED the order can no longer be cancelled.
  expect(await updateRefusal(handle.executeUpdate(cancelOrderUpdate, { args: [{ actor: customer }] }))).toMatchObject({
    type: 'INVALID_ORDER_STATE',
  });
  await shipAndDeliver(handle, 'NEWS-1');
  await replayThroughBothBundles(handle);
  await keepHistory('order-payment-news-local-happy-path-tracing-off', handle);
});

test('unverified news moves nothing (the local step answers UNVERIFIED); the real event with its id then pays', async () => {
  const { orderId, handle, intent } = await placeOrder();
  const forged = paid(intent);
  unverifiable.add(forged.eventId);
  await handle.signal(paymentEventSignal, forged);
  const ignored = await eventually(async () => {
    const now = await order(handle);
    return now.timeline.some((e) => e.event === 'UNVERIFIED_PAYMENT_NEWS_IGNORED') && now;
  }, 'news ignored');
  expect(ignored).toMatchObject({ status: 'PENDING', paymentStatus: 'PENDING' });
  expect(callsOf(orderId, 'verifyPaymentNews')).toEqual([]);
  expect(countsOf(await sinceTheNews(handle))).toMatchObject({ activities: [], localActivityMarkers: 1 });

  unverifiable.delete(forged.eventId);
  await handle.signal(paymentEventSignal, forged);
  await untilConfirmed(handle);
  expect(callsOf(orderId, 'recordSignalledPayment')).toHaveLength(2);
  await shipAndDeliver(handle, 'NEWS-2');
  await replayThroughBothBundles(handle);
  await keepHistory('order-payment-news-local-unverified-then-paid-tracing-off', handle);
});

test('news no stored event names is verified by the provider (an activity), then recorded as before', async () => {
  const { orderId, handle, intent } = await placeOrder();
  const typed = paid(intent);
  notStored.add(typed.eventId);
  await handle.signal(paymentEventSignal, typed);
  await untilConfirmed(handle);
  expect(callsOf(orderId).map((c) => c.name)).toEqual(
    expect.arrayContaining(['recordSignalledPayment', 'verifyPaymentNews', 'recordPaymentSucceeded']),
  );
  expect(countsOf(await sinceTheNews(handle)).activities).toEqual(
    expect.arrayContaining(['verifyPaymentNews', 'recordPaymentSucceeded']),
  );
  await shipAndDeliver(handle, 'NEWS-3');
  await replayThroughBothBundles(handle);
  await keepHistory('order-payment-news-local-not-stored-tracing-off', handle);
});

test('a one step that fails (a lost connection) is retried by the local policy and pays the order once', async () => {
  const { orderId, handle, intent } = await placeOrder();
  failsOnce.add(orderId);
  await handle.signal(paymentEventSignal, paid(intent));
  const confirmed = await untilConfirmed(handle);
  expect(callsOf(orderId, 'recordSignalledPayment')).toHaveLength(2);
  expect(confirmed.timeline.filter((t) => t.event === 'PAYMENT_SUCCEEDED')).toHaveLength(1);
  await handle.terminate('test finished');
  await replayThroughBothBundles(handle);
  await keepHistory('order-payment-news-local-retried-after-failure-tracing-off', handle);
});

describe('a one step slower than its workflow task (2 s timeout: the worker heartbeats the task at 1.6 s)', () => {
  // A test that failed midway lets its held call go, or the worker could never shut down.
  afterEach(() => held.forEach((gate) => gate.release()));

  /** Pays a new order with the one step held until `heartbeats` workflow tasks completed while it ran. */
  async function slowNews(heartbeats: number, news?: (intent: string) => PaymentEvent) {
    const placed = await placeOrder({ workflowTaskTimeout: '2s' });
    const gate = hold(placed.orderId);
    const event = news ? news(placed.intent) : paid(placed.intent);
    await placed.handle.signal(paymentEventSignal, event);
    await eventually(async () => {
      if (!gate.reached) return false;
      return countsOf(await sinceTheNews(placed.handle)).workflowTasks >= heartbeats;
    }, `${heartbeats} workflow task(s) completed while the one step is held`);
    return { ...placed, gate, event };
  }

  test.each([1, 2])(
    'held over %i workflow task heartbeat(s): CONFIRMED, shipped and delivered; the history replays',
    async (heartbeats) => {
      const { orderId, handle, gate } = await slowNews(heartbeats);
      gate.release();
      await untilConfirmed(handle);
      expect(callsOf(orderId, 'recordSignalledPayment')).toHaveLength(1);
      const since = countsOf(await sinceTheNews(handle));
      expect(since.localActivityMarkers).toBe(1);
      expect(since.workflowTasks).toBeGreaterThan(heartbeats);
      await shipAndDeliver(handle, `SLOW-${heartbeats}`);
      await replayThroughBothBundles(handle);
      await keepHistory(`order-payment-news-local-outlasting-${heartbeats}-task-heartbeats-tracing-off`, handle);
    },
  );

  test('a cancellation accepted meanwhile is refused once the payment is recorded; the paid order goes on', async () => {
    const { orderId, handle, gate } = await slowNews(1);
    // Its validator runs in a task the worker started while the one step is held: the order still looks unpaid.
    const cancel = await handle.startUpdate(cancelOrderUpdate, {
      args: [{ actor: customer, reason: 'too slow' }],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
    });
    gate.release();
    expect(await updateRefusal(cancel.result())).toMatchObject({
      type: 'INVALID_ORDER_STATE',
      message: expect.stringContaining('the payment arrived before the cancellation'),
    });
    const confirmed = await untilConfirmed(handle);
    expect(confirmed.timeline.map((t) => t.event)).toContain('CANCEL_REFUSED');
    expect(callsOf(orderId, 'cancelOrder')).toEqual([]);
    await shipAndDeliver(handle, 'AFTER-ALL');
    await replayThroughBothBundles(handle);
    await keepHistory('order-payment-news-local-cancel-refused-while-recording-tracing-off', handle);
  });

  test('a second payment event arriving meanwhile is verified, then ignored; the history replays', async () => {
    const { orderId, handle, gate, event } = await slowNews(1);
    // The same payment reported by another event (Stripe sends several per payment).
    const duplicate = { ...event, eventId: `evt_${randomUUID()}` };
    await handle.signal(paymentEventSignal, duplicate);
    await eventually(
      async () => countsOf(await sinceTheNews(handle)).workflowTasks >= 2,
      'the second event taken while the one step is held',
    );
    gate.release();
    await eventually(
      async () => (await order(handle)).timeline.some((t) => t.event === 'PAYMENT_EVENT_IGNORED'),
      'the duplicate ignored',
    );
    expect((await order(handle)).status).toBe('CONFIRMED');
    expect(callsOf(orderId, 'recordSignalledPayment')).toHaveLength(1);
    expect(callsOf(orderId, 'verifyPaymentNews').map((c) => (c.input.event as PaymentEvent).eventId)).toEqual([
      duplicate.eventId,
    ]);
    await shipAndDeliver(handle, 'DUPLICATE');
    await replayThroughBothBundles(handle);
    await keepHistory('order-payment-news-local-duplicate-while-recording-tracing-off', handle);
  });

  test('unverified news held meanwhile, and the real event arriving: ignored, then the real one pays', async () => {
    const { orderId, handle, gate } = await slowNews(1, (intent) => {
      const forged = paid(intent);
      unverifiable.add(forged.eventId);
      return forged;
    });
    const real = paid((await order(handle)).paymentIntentId!);
    await handle.signal(paymentEventSignal, real);
    await eventually(
      async () => countsOf(await sinceTheNews(handle)).workflowTasks >= 2,
      'the real event taken while the one step is held',
    );
    gate.release();
    const confirmed = await untilConfirmed(handle);
    expect(confirmed.timeline.map((t) => t.event)).toEqual(
      expect.arrayContaining(['UNVERIFIED_PAYMENT_NEWS_IGNORED', 'PAYMENT_SUCCEEDED', 'ORDER_CONFIRMED']),
    );
    // Two one steps, both local: the forged news', then the real one's.
    expect(callsOf(orderId, 'recordSignalledPayment')).toHaveLength(2);
    expect(countsOf(await sinceTheNews(handle))).toMatchObject({ localActivityMarkers: 2 });
    await shipAndDeliver(handle, 'REAL');
    await replayThroughBothBundles(handle);
    await keepHistory('order-payment-news-local-unverified-while-recording-tracing-off', handle);
  });
});
