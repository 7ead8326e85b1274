/**
 * The order workflow's logic against the real Temporal dev server, with stubbed activities:
 * every branch of the runbook (paid, failed then retried, expired, cancelled, cash on delivery,
 * refused transitions, late and duplicate payments).
 *
 * With RECORD_HISTORIES=1 each scenario also writes its history to test/histories/, which
 * replay.test.ts replays on every run to catch non-deterministic changes.
 */
import { WithStartWorkflowOperation, WorkflowUpdateStage, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, type Duration } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import type { Activities } from '../../src/activities';
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
import { orderRefundedSignal } from '../../src/workflows/refund/messages';
import { type Actor } from '../../src/workflows/vocabulary';
import { adminNamedBy } from '../../src/access/request-seals';
import type { orderWorkflow } from '../../src/workflows/order/workflow';
import { reserveAtUnitPrice, UNIT_PRICE } from '../helpers/order-stubs';
import { eventually } from '../helpers/stack';
import { keepHistory, recording, useStubWorker, updateRefusal } from '../helpers/workflow-worker';
import { orderWorkflowId } from '../../src/workflows/ids';
import { searchAttributes } from '../../src/workflows/search-attributes';

const SHORT_PRODUCT = '00000000-0000-0000-0000-00000000dead'; // the stub reports it out of stock
const LATE_PAYER = '00000000-0000-0000-0000-0000000000aa'; // its PaymentIntent turns out paid when cancelled
const BROKE_CUSTOMER = '00000000-0000-0000-0000-0000000000bb'; // too little store credit
const UNKNOWN_PRODUCT = '00000000-0000-0000-0000-00000000beef'; // not in the stub's catalogue

/** Activities held mid-way (`<activity>:<orderId>`) until the test opens the gate. */
const gates = new Map<string, { opened: Promise<void>; open: () => void; reached: boolean }>();
function gate(activity: string, orderId: string) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const held = { opened, open, reached: false };
  gates.set(`${activity}:${orderId}`, held);
  return held;
}
async function passGate(activity: string, orderId: string) {
  const held = gates.get(`${activity}:${orderId}`);
  if (!held) return;
  held.reached = true;
  await held.opened;
}

/** Orders a refund has just completed in full in the database, before its signal reaches the workflow. */
const refundedInDatabase = new Set<string>();

/** What the stubbed provider answers when the workflow asks it about a payment (reconciliation). */
const providerSays = new Map<string, Awaited<ReturnType<Activities['fetchPaymentStatus']>>>();

/** Stand-ins for the database, Stripe and email, recording every call per order. */
const stubs: Partial<Activities> = {
  async createOrderAndReserveStock(input) {
    if (input.items.some((i) => i.productId === UNKNOWN_PRODUCT)) {
      throw ApplicationFailure.create({
        type: 'PRODUCT_NOT_FOUND',
        message: `Unknown products: ${UNKNOWN_PRODUCT}`,
        details: [{ productIds: [UNKNOWN_PRODUCT] }],
        nonRetryable: true,
      });
    }
    if (input.items.some((i) => i.productId === SHORT_PRODUCT)) {
      throw ApplicationFailure.create({
        type: 'INSUFFICIENT_STOCK',
        message: 'Insufficient stock for SHORT-1 (requested 1, available 0)',
        details: [{ products: [{ productId: SHORT_PRODUCT, sku: 'SHORT-1', requested: 1, available: 0 }] }],
        nonRetryable: true,
      });
    }
    if (input.paymentMethod === 'WALLET' && input.customerId === BROKE_CUSTOMER) {
      throw ApplicationFailure.create({
        type: 'INSUFFICIENT_WALLET_BALANCE',
        message: 'The wallet holds 100 USD; the order costs 2500 USD',
        details: [{ required: 2500, currency: 'USD' }],
        nonRetryable: true,
      });
    }
    return reserveAtUnitPrice(input);
  },
  async recordPaymentSucceeded(input) {
    await passGate('recordPaymentSucceeded', input.orderId);
  },
  // Signalled news of the open attempt, checked against the stored event it names and recorded at once.
  async recordSignalledPayment(input) {
    const { eventId } = input.event;
    if (notStored.has(eventId)) return { outcome: 'NOT_STORED' };
    if (unverifiable.has(eventId))
      return { outcome: 'UNVERIFIED', reason: `stored STRIPE event ${eventId} reports another payment` };
    await passGate('recordSignalledPayment', input.orderId);
    if (workerDiesAfterCommit.delete(input.orderId))
      throw ApplicationFailure.create({ type: 'WORKER_LOST', message: 'the worker died after the commit' });
    return { outcome: 'RECORDED' };
  },
  async recordPaymentFailed() {},
  async confirmOrder() {},
  async cancelOrder() {},
  async markShipped(input) {
    await passGate('markShipped', input.orderId);
    if (refundedInDatabase.has(input.orderId)) {
      throw ApplicationFailure.create({
        type: 'INVALID_ORDER_STATE',
        message: 'Order is REFUNDED (payment REFUNDED): it cannot be shipped',
        details: [{ status: 'REFUNDED', paymentStatus: 'REFUNDED' }],
        nonRetryable: true,
      });
    }
  },
  async markDelivered() {},
  // No verified source (stored webhook event, provider) says what these events say.
  async verifyPaymentNews(input) {
    if (input.kind === 'payment' && unverifiable.has(input.event.eventId))
      return { verified: false, reason: `no stored event ${input.event.eventId}, and the provider disagrees` };
    return { verified: true, by: 'stored-event' };
  },
  // The one active-admin check: the API's admin (by id, sealed) or the same admin named by email
  // in the Web UI; nobody else.
  async activeAdminNamed(input) {
    const named = 'request' in input ? adminNamedBy(input.request) : input.named;
    const known = named === admin.id || named === ADMIN_EMAIL;
    return { admin: known ? { id: admin.id, email: ADMIN_EMAIL } : null, via: named === admin.id ? 'api' : 'temporal' };
  },
  async createPaymentIntent(input) {
    return {
      paymentIntentId: `pi_${input.orderId.slice(0, 8)}_${input.attempt}`,
      clientSecret: `pi_${input.attempt}_secret_test`,
    };
  },
  async createRazorpayOrder(input) {
    return { razorpayOrderId: `order_${input.orderId.slice(0, 8)}_${input.attempt}`, keyId: 'rzp_test_stub' };
  },
  async fetchPaymentStatus(input) {
    return providerSays.get(input.providerPaymentId) ?? { outcome: 'PENDING', amount: 0, currency: 'USD' };
  },
  async resolvePaymentOrder(input) {
    return { orderId: input.orderId ?? 'unknown' };
  },
  async cancelPaymentIntent(input) {
    return { status: input.paymentIntentId.startsWith('pi_late') ? 'succeeded' : 'canceled' };
  },
  async refundUnexpectedPayment(input) {
    await passGate('refundUnexpectedPayment', input.orderId);
    if (input.providerPaymentId === 'pi_refund_refused') {
      throw ApplicationFailure.create({
        type: 'STRIPE_CHARGE_DISPUTED',
        message: 'Charge ch_9 has been disputed.',
        nonRetryable: true,
      });
    }
    return { refundId: `re_${input.providerPaymentId}` };
  },
  async sendOrderEmail() {},
  async alertAdmins() {},
  async recordWebhookOutcome() {},
};
// An admin check names its order by the workflow id the update was sent to.
const { wrapped, callsOf } = recording(stubs, (input) =>
  String(input.orderId ?? input.eventId ?? input.key ?? String(input.workflowId).replace(/^order-/, '')),
);
const customer: Actor = { id: randomUUID(), role: 'CUSTOMER' };
const admin: Actor = { id: randomUUID(), role: 'ADMIN' };
const ADMIN_EMAIL = 'warehouse@example.test';
/** Event ids of payment news no verified source confirms (typed into Temporal by hand). */
const unverifiable = new Set<string>();
/** Event ids no stored webhook event has: only the provider can vouch for them. */
const notStored = new Set<string>();
/** Orders whose one-step payment activity commits, then loses its worker before it answers (once). */
const workerDiesAfterCommit = new Set<string>();
const worker = useStubWorker(wrapped);

/** Checkout as the API does it: update-with-start, answering once stock is reserved. */
async function placeOrder(
  overrides: Partial<OrderWorkflowInput> = {},
  options: { workflowTaskTimeout?: Duration } = {},
) {
  const orderId =
    overrides.orderId ??
    (overrides.items?.[0]?.productId === LATE_PAYER ? `late${randomUUID().slice(4)}` : randomUUID());
  const input: OrderWorkflowInput = {
    orderId,
    customerId: customer.id,
    items: [{ productId: randomUUID(), quantity: 2 }],
    paymentMethod: 'CARD',
    currency: 'USD',
    reservationTtlMs: 60_000,
    ...overrides,
  };
  const start = new WithStartWorkflowOperation<typeof orderWorkflow>('orderWorkflow', {
    workflowId: orderWorkflowId(orderId),
    taskQueue: worker.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'FAIL',
    ...options,
  });
  const placed = worker.client.workflow.executeUpdateWithStart(placeOrderUpdate, { startWorkflowOperation: start });
  const handle: WorkflowHandle<typeof orderWorkflow> = await start.workflowHandle();
  return { orderId, handle, placed };
}

function paid(orderId: string, paymentIntentId: string, extra: Partial<PaymentEvent> = {}): PaymentEvent {
  return {
    provider: 'STRIPE',
    eventId: `evt_${randomUUID()}`,
    outcome: 'SUCCEEDED',
    providerPaymentId: paymentIntentId,
    amount: 2 * UNIT_PRICE,
    currency: 'USD',
    ...extra,
  };
}

async function statusOf(handle: WorkflowHandle) {
  return handle.query(getOrderQuery);
}

async function waitForStatus(
  handle: WorkflowHandle,
  predicate: (o: Awaited<ReturnType<typeof statusOf>>) => boolean,
  what: string,
) {
  return eventually(async () => {
    const order = await statusOf(handle);
    return predicate(order) && order;
  }, what);
}

/** The workflow's refusal carried by a rejected update. */

test('happy path: paid, confirmed, shipped, delivered', async () => {
  const { orderId, handle, placed } = await placeOrder();
  expect(await placed).toMatchObject({
    orderId,
    status: 'PENDING',
    paymentStatus: 'PENDING',
    totalAmount: 2500,
    clientSecret: 'pi_1_secret_test',
  });

  const pending = await statusOf(handle);
  const paidEvent = paid(orderId, pending.paymentIntentId!);
  await handle.signal(paymentEventSignal, paidEvent);
  await waitForStatus(handle, (o) => o.status === 'CONFIRMED', 'CONFIRMED');

  const shipped = await handle.executeUpdate(shipOrderUpdate, {
    args: [{ actor: admin, trackingNumber: 'TRK-1', carrier: 'UPS' }],
  });
  expect(shipped).toMatchObject({ status: 'SHIPPED', trackingNumber: 'TRK-1', carrier: 'UPS' });
  const delivered = await handle.executeUpdate(deliverOrderUpdate, { args: [{ actor: admin }] });
  expect(delivered.status).toBe('DELIVERED');

  const result = await handle.result();
  expect(result).toMatchObject({ status: 'DELIVERED', paymentStatus: 'PAID' });
  expect(callsOf(orderId).map((c) => c.name)).toEqual(
    expect.arrayContaining([
      'createOrderAndReserveStock',
      'createPaymentIntent',
      'recordSignalledPayment',
      'markShipped',
      'markDelivered',
    ]),
  );
  // Verified, paid and confirmed (the reserved units sold) by one activity in one transaction.
  expect(callsOf(orderId, 'recordSignalledPayment').map((c) => c.input)).toEqual([
    {
      orderId,
      attempt: 1,
      event: paidEvent,
      confirmedBy: `STRIPE webhook ${paidEvent.eventId}`,
      confirm: { actor: { id: 'system', role: 'SYSTEM' } },
    },
  ]);
  expect(callsOf(orderId, 'verifyPaymentNews')).toEqual([]);
  expect(callsOf(orderId, 'recordPaymentSucceeded')).toEqual([]);
  expect(callsOf(orderId, 'confirmOrder')).toEqual([]);
  expect(
    callsOf(orderId, 'sendOrderEmail')
      .map((c) => c.input.kind)
      .sort(),
  ).toEqual(['ORDER_CONFIRMED', 'ORDER_SHIPPED']);
  expect(callsOf(orderId, 'markShipped')[0].input).toMatchObject({
    actor: admin,
    trackingNumber: 'TRK-1',
    commitStock: false,
  });
  await keepHistory('order-happy-path', handle);
});

test('payment failed, then retried with a new PaymentIntent and paid', async () => {
  const { orderId, handle, placed } = await placeOrder();
  await placed;
  const first = await statusOf(handle);
  await handle.signal(paymentEventSignal, {
    ...paid(orderId, first.paymentIntentId!),
    outcome: 'FAILED',
    failureReason: 'card_declined',
  });
  await waitForStatus(handle, (o) => o.paymentStatus === 'FAILED', 'payment FAILED');
  expect((await statusOf(handle)).status).toBe('PENDING');

  const retry = await handle.executeUpdate(retryPaymentUpdate, { args: [{ actor: customer }] });
  expect(retry).toMatchObject({ paymentAttempt: 2, clientSecret: 'pi_2_secret_test' });
  // The first intent is cancelled so the customer cannot pay both.
  expect(callsOf(orderId, 'cancelPaymentIntent').map((c) => c.input.paymentIntentId)).toEqual([first.paymentIntentId]);

  const second = await statusOf(handle);
  expect(second).toMatchObject({ paymentStatus: 'PENDING', paymentAttempt: 2 });
  await handle.signal(paymentEventSignal, paid(orderId, second.paymentIntentId!));
  await waitForStatus(handle, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
  expect(callsOf(orderId, 'recordPaymentFailed')).toHaveLength(1);
  expect(callsOf(orderId, 'recordSignalledPayment')[0].input).toMatchObject({
    attempt: 2,
    event: { providerPaymentId: second.paymentIntentId },
  });
  await keepHistory('order-payment-retry', handle);
  await handle.terminate('test finished');
});

test('reservation expiry releases stock, cancels the PaymentIntent and cancels the order', async () => {
  const { orderId, handle, placed } = await placeOrder({ reservationTtlMs: 1500 });
  await placed;
  const result = await handle.result();
  expect(result).toMatchObject({ status: 'CANCELLED', cancelReason: 'RESERVATION_EXPIRED' });
  expect(callsOf(orderId, 'cancelOrder')[0].input).toMatchObject({
    reason: 'RESERVATION_EXPIRED',
    actor: { id: 'system', role: 'SYSTEM' },
  });
  expect(callsOf(orderId, 'cancelPaymentIntent')).toHaveLength(1);
  expect(callsOf(orderId, 'sendOrderEmail').map((c) => c.input.kind)).toEqual(['ORDER_CANCELLED']);
  expect(callsOf(orderId, 'refundUnexpectedPayment')).toHaveLength(0);
  await keepHistory('order-reservation-expired', handle);
});

test('the customer cancels before paying; another customer may not', async () => {
  const { orderId, handle, placed } = await placeOrder();
  await placed;
  const stranger: Actor = { id: randomUUID(), role: 'CUSTOMER' };
  const refused = await updateRefusal(handle.executeUpdate(cancelOrderUpdate, { args: [{ actor: stranger }] }));
  expect(refused.type).toBe('FORBIDDEN');

  const cancelled = await handle.executeUpdate(cancelOrderUpdate, {
    args: [{ actor: customer, reason: 'changed my mind' }],
  });
  expect(cancelled).toMatchObject({
    status: 'CANCELLED',
    cancelReason: 'CANCELLED_BY_CUSTOMER',
    cancelNote: 'changed my mind',
  });
  expect(callsOf(orderId, 'cancelOrder')).toHaveLength(1);
  expect((await handle.result()).status).toBe('CANCELLED');
  await keepHistory('order-cancelled-by-customer', handle);
});

test('cash on delivery: confirmed at once, stock sold at shipment, paid on delivery', async () => {
  const { orderId, handle, placed } = await placeOrder({ paymentMethod: 'COD' });
  const order = await placed;
  expect(order).toMatchObject({ status: 'CONFIRMED', paymentStatus: 'PENDING' });
  expect(order.clientSecret).toBeUndefined();
  expect(callsOf(orderId, 'createPaymentIntent')).toHaveLength(0);
  expect(callsOf(orderId, 'confirmOrder')[0].input).toMatchObject({ commitStock: false });

  await handle.executeUpdate(shipOrderUpdate, { args: [{ actor: admin, trackingNumber: 'COD-1' }] });
  expect(callsOf(orderId, 'markShipped')[0].input).toMatchObject({ commitStock: true });
  const delivered = await handle.executeUpdate(deliverOrderUpdate, { args: [{ actor: admin }] });
  expect(delivered).toMatchObject({ status: 'DELIVERED', paymentStatus: 'PAID' });
  expect(callsOf(orderId, 'markDelivered')[0].input).toMatchObject({
    cashCollected: { amount: 2500, currency: 'USD' },
  });
  await handle.result();
  await keepHistory('order-cash-on-delivery', handle);
});

test('paid from the wallet: confirmed at once, stock sold, nothing asked of a provider; too little credit refuses checkout', async () => {
  const { orderId, handle, placed } = await placeOrder({ paymentMethod: 'WALLET' });
  expect(await placed).toMatchObject({ status: 'CONFIRMED', paymentStatus: 'PAID', paymentMethod: 'WALLET' });
  expect((await placed).clientSecret).toBeUndefined();
  expect(callsOf(orderId, 'confirmOrder')[0].input).toMatchObject({ commitStock: true });
  expect(callsOf(orderId, 'createPaymentIntent')).toEqual([]);
  const refusedCancel = await updateRefusal(handle.executeUpdate(cancelOrderUpdate, { args: [{ actor: customer }] }));
  expect(refusedCancel.type).toBe('INVALID_ORDER_STATE');
  await handle.executeUpdate(shipOrderUpdate, { args: [{ actor: admin, trackingNumber: 'W-1' }] });
  expect(callsOf(orderId, 'markShipped')[0].input).toMatchObject({ commitStock: false });
  expect(await handle.executeUpdate(deliverOrderUpdate, { args: [{ actor: admin }] })).toMatchObject({
    status: 'DELIVERED',
    paymentStatus: 'PAID',
  });
  expect(callsOf(orderId, 'markDelivered')[0].input.cashCollected).toBeUndefined();
  await handle.result();
  await keepHistory('order-paid-from-wallet', handle);

  const broke = await placeOrder({ paymentMethod: 'WALLET', customerId: BROKE_CUSTOMER });
  expect(await updateRefusal(broke.placed)).toMatchObject({
    type: 'INSUFFICIENT_WALLET_BALANCE',
    details: [{ required: 2500, currency: 'USD' }],
  });
  expect(await broke.handle.result()).toMatchObject({
    status: 'CANCELLED',
    cancelReason: 'INSUFFICIENT_WALLET_BALANCE',
  });
  expect(callsOf(broke.orderId, 'confirmOrder')).toEqual([]);
});

test('payment news no verified source confirms moves nothing; the real event with its id still pays', async () => {
  const { orderId, handle, placed } = await placeOrder();
  await placed;
  const { paymentIntentId } = await statusOf(handle);
  // Typed into the Web UI: the order's own PaymentIntent and the right amount, but the stored event says otherwise.
  const forged = paid(orderId, paymentIntentId!);
  unverifiable.add(forged.eventId);
  await handle.signal(paymentEventSignal, forged);
  const ignored = await waitForStatus(
    handle,
    (o) => o.timeline.some((e) => e.event === 'UNVERIFIED_PAYMENT_NEWS_IGNORED'),
    'news ignored',
  );
  expect(ignored).toMatchObject({ status: 'PENDING', paymentStatus: 'PENDING' });
  expect(ignored.timeline.at(-1)?.detail).toBe(
    `SUCCEEDED ${paymentIntentId}: stored STRIPE event ${forged.eventId} reports another payment`,
  );
  // Checked by the one step, which moved nothing; nothing else was asked.
  expect(callsOf(orderId, 'recordSignalledPayment')).toHaveLength(1);
  expect(callsOf(orderId, 'recordPaymentSucceeded')).toHaveLength(0);
  expect(callsOf(orderId, 'verifyPaymentNews')).toHaveLength(0);

  // The provider's webhook, stored and verified, under the same event id: believed.
  unverifiable.delete(forged.eventId);
  await handle.signal(paymentEventSignal, forged);
  await waitForStatus(handle, (o) => o.status === 'CONFIRMED', 'CONFIRMED');

  // A success for a payment that is not the order's, typed in while it is CONFIRMED: not refunded either.
  const foreign = paid(orderId, 'pi_someone_else');
  unverifiable.add(foreign.eventId);
  await handle.signal(paymentEventSignal, foreign);
  await waitForStatus(
    handle,
    (o) => o.timeline.filter((e) => e.event === 'UNVERIFIED_PAYMENT_NEWS_IGNORED').length === 2,
    'second news ignored',
  );
  expect(callsOf(orderId, 'refundUnexpectedPayment')).toHaveLength(0);
  expect(callsOf(orderId, 'recordSignalledPayment')).toHaveLength(2);
  expect(callsOf(orderId, 'verifyPaymentNews')).toHaveLength(1); // the foreign one, while CONFIRMED
  await handle.executeUpdate(shipOrderUpdate, { args: [{ actor: admin, trackingNumber: 'V-1' }] });
  await handle.executeUpdate(deliverOrderUpdate, { args: [{ actor: admin }] });
  expect(await handle.result()).toMatchObject({ status: 'DELIVERED', paymentStatus: 'PAID' });
  await keepHistory('order-unverified-payment-news-ignored', handle);
});

test('a shipment or delivery naming no active admin is refused and changes nothing; by email it is recorded under the account', async () => {
  const { orderId, handle, placed } = await placeOrder({ paymentMethod: 'COD' });
  await placed;
  const stranger: Actor = { id: randomUUID(), role: 'ADMIN' }; // "ADMIN", typed into the Web UI
  const shipByStranger = await updateRefusal(
    handle.executeUpdate(shipOrderUpdate, { args: [{ actor: stranger, trackingNumber: 'NOPE' }] }),
  );
  expect(shipByStranger).toMatchObject({ type: 'NOT_AN_ADMIN', message: `${stranger.id} is not an active admin` });
  expect(callsOf(orderId, 'markShipped')).toHaveLength(0);
  expect((await statusOf(handle)).status).toBe('CONFIRMED');

  const webUiAdmin: Actor = { id: ADMIN_EMAIL, role: 'ADMIN' };
  const shipped = await handle.executeUpdate(shipOrderUpdate, { args: [{ actor: webUiAdmin, trackingNumber: 'T-1' }] });
  expect(shipped.timeline.find((e) => e.event === 'ORDER_SHIPPED')?.actor).toEqual(admin);
  expect(callsOf(orderId, 'markShipped')[0].input).toMatchObject({
    actor: admin,
    sentThrough: { via: 'temporal-update', named: ADMIN_EMAIL },
  });

  const deliverByStranger = await updateRefusal(
    handle.executeUpdate(deliverOrderUpdate, { args: [{ actor: stranger }] }),
  );
  expect(deliverByStranger.type).toBe('NOT_AN_ADMIN');
  expect(callsOf(orderId, 'markDelivered')).toHaveLength(0);
  expect((await statusOf(handle)).status).toBe('SHIPPED');
  expect((await handle.executeUpdate(deliverOrderUpdate, { args: [{ actor: admin }] })).status).toBe('DELIVERED');
  expect(callsOf(orderId, 'markDelivered')[0].input).toMatchObject({ actor: admin });
  expect(callsOf(orderId, 'markDelivered')[0].input.sentThrough).toBeUndefined(); // the API's: audited by the API
  const { timeline } = await handle.result();
  expect(timeline.filter((e) => e.event.endsWith('_REFUSED')).map((e) => [e.event, e.actor.id])).toEqual([
    ['SHIPMENT_REFUSED', stranger.id],
    ['DELIVERY_REFUSED', stranger.id],
  ]);
  // Each request was asked of the one active-admin check as it was sent, seal and all.
  const { workflowId } = handle;
  expect(callsOf(orderId, 'activeAdminNamed').map((c) => c.input)).toEqual([
    { workflowId, update: 'shipOrder', request: { actor: stranger, trackingNumber: 'NOPE' } },
    { workflowId, update: 'shipOrder', request: { actor: webUiAdmin, trackingNumber: 'T-1' } },
    { workflowId, update: 'deliverOrder', request: { actor: stranger } },
    { workflowId, update: 'deliverOrder', request: { actor: admin } },
  ]);
  // (order-admin-requests-checked.json was recorded before order-one-admin-check: it replays checkAdminRequest.)
  await keepHistory('order-admin-requests-checked-one-admin-check', handle);
});

test('refused transitions say why and name the current status', async () => {
  const { orderId, handle, placed } = await placeOrder();
  await placed;

  const shipPending = await updateRefusal(
    handle.executeUpdate(shipOrderUpdate, { args: [{ actor: admin, trackingNumber: 'X' }] }),
  );
  expect(shipPending).toMatchObject({
    type: 'INVALID_ORDER_STATE',
    details: [{ status: 'PENDING', paymentStatus: 'PENDING' }],
  });
  const deliverPending = await updateRefusal(handle.executeUpdate(deliverOrderUpdate, { args: [{ actor: admin }] }));
  expect(deliverPending.type).toBe('INVALID_ORDER_STATE');
  const retryUnfailed = await updateRefusal(handle.executeUpdate(retryPaymentUpdate, { args: [{ actor: customer }] }));
  expect(retryUnfailed.type).toBe('INVALID_ORDER_STATE');

  await handle.signal(paymentEventSignal, paid(orderId, (await statusOf(handle)).paymentIntentId!));
  await waitForStatus(handle, (o) => o.status === 'CONFIRMED', 'CONFIRMED');

  const cancelPaid = await updateRefusal(
    handle.executeUpdate(cancelOrderUpdate, { args: [{ actor: admin, reason: 'try' }] }),
  );
  expect(cancelPaid).toMatchObject({
    type: 'INVALID_ORDER_STATE',
    details: [{ status: 'CONFIRMED', paymentStatus: 'PAID' }],
  });
  const customerShips = await updateRefusal(
    handle.executeUpdate(shipOrderUpdate, { args: [{ actor: customer, trackingNumber: 'X' }] }),
  );
  expect(customerShips.type).toBe('FORBIDDEN');
  const deliverUnshipped = await updateRefusal(handle.executeUpdate(deliverOrderUpdate, { args: [{ actor: admin }] }));
  expect(deliverUnshipped.details).toEqual([{ status: 'CONFIRMED', paymentStatus: 'PAID' }]);

  // None of the refusals changed anything.
  expect(callsOf(orderId, 'markShipped')).toHaveLength(0);
  expect(callsOf(orderId, 'cancelOrder')).toHaveLength(0);
  await handle.terminate('test finished');
});

test('insufficient stock refuses checkout before any payment is attempted', async () => {
  const { orderId, handle, placed } = await placeOrder({ items: [{ productId: SHORT_PRODUCT, quantity: 1 }] });
  const refused = await updateRefusal(placed);
  expect(refused).toMatchObject({
    type: 'INSUFFICIENT_STOCK',
    details: [{ products: [{ productId: SHORT_PRODUCT, sku: 'SHORT-1' }] }],
  });
  expect((await handle.result()).status).toBe('CANCELLED');
  expect(callsOf(orderId, 'createPaymentIntent')).toHaveLength(0);
  await keepHistory('order-insufficient-stock', handle);
});

test('an unknown product refused by the reservation keeps its own code: the order ends CANCELLED at once, nothing else asked', async () => {
  const { orderId, handle, placed } = await placeOrder({
    items: [
      { productId: randomUUID(), quantity: 1 },
      { productId: UNKNOWN_PRODUCT, quantity: 1 },
    ],
  });
  const refused = await updateRefusal(placed);
  expect(refused).toEqual({
    type: 'PRODUCT_NOT_FOUND',
    message: `Unknown products: ${UNKNOWN_PRODUCT}`,
    details: [{ productIds: [UNKNOWN_PRODUCT] }],
  });
  const result = await handle.result();
  expect(result).toMatchObject({
    status: 'CANCELLED',
    cancelReason: 'PRODUCT_NOT_FOUND',
    checkoutRefusal: {
      code: 'PRODUCT_NOT_FOUND',
      message: `Unknown products: ${UNKNOWN_PRODUCT}`,
      details: { productIds: [UNKNOWN_PRODUCT] },
    },
  });
  expect(result.timeline.map((t) => [t.event, t.detail])).toEqual([
    ['CHECKOUT_REFUSED', `Unknown products: ${UNKNOWN_PRODUCT}`],
  ]);
  // The reservation's transaction left nothing: nothing to cancel, no payment, no email.
  expect(callsOf(orderId).map((c) => c.name)).toEqual(['createOrderAndReserveStock']);
  // Closed, not failed: Temporal shows it completed, CANCELLED.
  const described = await handle.describe();
  expect(described.status.name).toBe('COMPLETED');
  expect(described.typedSearchAttributes.get(searchAttributes.orderStatus)).toBe('CANCELLED');
  await keepHistory('order-unknown-product-refused', handle);
});

test('redelivered and duplicate payment events have no second effect', async () => {
  const { orderId, handle, placed } = await placeOrder();
  await placed;
  const event = paid(orderId, (await statusOf(handle)).paymentIntentId!);
  await Promise.all([
    handle.signal(paymentEventSignal, event),
    handle.signal(paymentEventSignal, event),
    handle.signal(paymentEventSignal, event),
  ]);
  // The same payment reported by a different event (Stripe sends several per payment).
  const duplicate = { ...event, eventId: `evt_${randomUUID()}` };
  await handle.signal(paymentEventSignal, duplicate);
  await waitForStatus(
    handle,
    (o) => o.status === 'CONFIRMED' && o.timeline.some((t) => t.event === 'PAYMENT_EVENT_IGNORED'),
    'CONFIRMED, duplicate ignored',
  );
  expect(callsOf(orderId, 'recordSignalledPayment')).toHaveLength(1); // verified, paid and confirmed, once
  expect(callsOf(orderId, 'recordPaymentSucceeded')).toHaveLength(0);
  // The second event, arriving while the first was recorded, is checked before it is ignored.
  expect(callsOf(orderId, 'verifyPaymentNews').map((c) => (c.input.event as PaymentEvent).eventId)).toEqual([
    duplicate.eventId,
  ]);
  expect(callsOf(orderId, 'refundUnexpectedPayment')).toHaveLength(0);
  // Emails go out alongside the flow: wait for the one, then make sure it is the only one.
  const confirmations = () => callsOf(orderId, 'sendOrderEmail').filter((c) => c.input.kind === 'ORDER_CONFIRMED');
  await eventually(async () => confirmations().length > 0, 'confirmation email');
  expect(confirmations()).toHaveLength(1);
  await keepHistory('order-payment-one-step-duplicate-events', handle);
  await handle.terminate('test finished');
});

test('money is never silently kept: a wrong amount, a second payment and a payment at expiry are refunded', async () => {
  const { orderId, handle, placed } = await placeOrder();
  await placed;
  const intent = (await statusOf(handle)).paymentIntentId!;
  await handle.signal(paymentEventSignal, paid(orderId, intent, { amount: 1 }));
  await waitForStatus(
    handle,
    (o) => o.timeline.some((t) => t.event === 'UNEXPECTED_PAYMENT_REFUNDED'),
    'wrong amount refunded',
  );
  expect((await statusOf(handle)).status).toBe('PENDING');

  await handle.signal(paymentEventSignal, paid(orderId, intent));
  await waitForStatus(handle, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
  await handle.signal(paymentEventSignal, paid(orderId, 'pi_paid_twice'));
  await waitForStatus(
    handle,
    (o) => o.timeline.filter((t) => t.event === 'UNEXPECTED_PAYMENT_REFUNDED').length === 2,
    'second payment refunded',
  );
  expect(callsOf(orderId, 'refundUnexpectedPayment').map((c) => c.input.providerPaymentId)).toEqual([
    intent,
    'pi_paid_twice',
  ]);
  await handle.terminate('test finished');

  // The customer pays in the very moment the reservation expires: cancelling the intent reveals it.
  const late = await placeOrder({ items: [{ productId: LATE_PAYER, quantity: 2 }], reservationTtlMs: 1000 });
  await late.placed;
  expect(await late.handle.result()).toMatchObject({ status: 'CANCELLED', cancelReason: 'RESERVATION_EXPIRED' });
  expect(callsOf(late.orderId, 'refundUnexpectedPayment')).toHaveLength(1);
  expect(
    callsOf(late.orderId, 'sendOrderEmail')
      .map((c) => c.input.kind)
      .sort(),
  ).toEqual(['ORDER_CANCELLED', 'PAYMENT_REFUNDED']);
  await keepHistory('order-paid-at-expiry', late.handle);
});

test('after a partial refund, news of the payment that paid the order refunds nothing; another payment is refunded', async () => {
  const { orderId, handle, placed } = await placeOrder();
  await placed;
  const intent = (await statusOf(handle)).paymentIntentId!;
  await handle.signal(paymentEventSignal, paid(orderId, intent));
  await waitForStatus(handle, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
  await handle.signal(orderRefundedSignal, {
    refundId: randomUUID(),
    amount: 500,
    orderStatus: 'PARTIALLY_REFUNDED',
    paymentStatus: 'PARTIALLY_REFUNDED',
  });
  await waitForStatus(handle, (o) => o.status === 'PARTIALLY_REFUNDED', 'PARTIALLY_REFUNDED');

  // The same payment reported again (Razorpay's order.paid after payment.captured, a late webhook after a status check).
  await handle.signal(paymentEventSignal, paid(orderId, intent));
  await waitForStatus(
    handle,
    (o) => o.timeline.some((t) => t.event === 'PAYMENT_EVENT_IGNORED'),
    'the known payment ignored',
  );
  await handle.signal(paymentEventSignal, paid(orderId, 'pi_after_refund'));
  await waitForStatus(
    handle,
    (o) => o.timeline.some((t) => t.event === 'UNEXPECTED_PAYMENT_REFUNDED'),
    'the other payment refunded',
  );
  expect(callsOf(orderId, 'refundUnexpectedPayment').map((c) => c.input.providerPaymentId)).toEqual([
    'pi_after_refund',
  ]);
  await keepHistory('order-paid-again-after-partial-refund', handle);
  await handle.terminate('test finished');
});

test('an earlier attempt paid after all pays the order; the attempt left open is closed, and refunded if paid too', async () => {
  const { orderId, handle, placed } = await placeOrder();
  await placed;
  const first = (await statusOf(handle)).paymentIntentId!;
  await handle.signal(paymentEventSignal, {
    ...paid(orderId, first),
    outcome: 'FAILED',
    failureReason: 'card_declined',
  });
  await waitForStatus(handle, (o) => o.paymentStatus === 'FAILED', 'payment FAILED');
  await handle.executeUpdate(retryPaymentUpdate, { args: [{ actor: customer }] });
  const second = (await statusOf(handle)).paymentIntentId!;
  expect(second).not.toBe(first);

  // The first PaymentIntent succeeded as the second one opened (the customer retried in Stripe's own form).
  await handle.signal(paymentEventSignal, paid(orderId, first));
  const confirmed = await waitForStatus(handle, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
  expect(confirmed).toMatchObject({ paymentStatus: 'PAID', paymentIntentId: first });
  expect(callsOf(orderId, 'recordPaymentSucceeded').map((c) => c.input)).toEqual([
    expect.objectContaining({ providerPaymentId: first }),
  ]);
  expect(callsOf(orderId, 'cancelPaymentIntent').map((c) => c.input.paymentIntentId)).toEqual([first, second]);
  expect(confirmed.timeline.map((t) => t.event)).toContain('PAYMENT_ATTEMPT_CLOSED');

  // Had the customer paid the second one as well, that money goes back.
  await handle.signal(paymentEventSignal, paid(orderId, second));
  await waitForStatus(
    handle,
    (o) => o.timeline.some((t) => t.event === 'UNEXPECTED_PAYMENT_REFUNDED'),
    'second attempt refunded',
  );
  expect(callsOf(orderId, 'refundUnexpectedPayment').map((c) => c.input.providerPaymentId)).toEqual([second]);
  await keepHistory('order-earlier-attempt-paid', handle);
  await handle.terminate('test finished');
});

test('a cancellation asked for while the payment is being recorded is refused; the paid order goes on', async () => {
  // The one step is a local activity: the update is taken when the worker heartbeats the held
  // workflow task (at 80% of its timeout), which must come before the step's 5 s start-to-close.
  const { orderId, handle, placed } = await placeOrder({}, { workflowTaskTimeout: '2s' });
  await placed;
  const recording = gate('recordSignalledPayment', orderId);
  await handle.signal(paymentEventSignal, paid(orderId, (await statusOf(handle)).paymentIntentId!));
  await eventually(async () => recording.reached, 'payment being recorded');
  // The cancellation is accepted (the order still looks unpaid) and waits for the flow.
  const cancel = await handle.startUpdate(cancelOrderUpdate, {
    args: [{ actor: customer, reason: 'too slow' }],
    waitForStage: WorkflowUpdateStage.ACCEPTED,
  });
  recording.open();
  const refused = await updateRefusal(cancel.result());
  expect(refused).toMatchObject({
    type: 'INVALID_ORDER_STATE',
    message: expect.stringContaining('the payment arrived before the cancellation'),
  });
  const order = await waitForStatus(handle, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
  expect(order.timeline.map((t) => t.event)).toContain('CANCEL_REFUSED');
  expect(callsOf(orderId, 'cancelOrder')).toEqual([]);
  expect(callsOf(orderId, 'refundUnexpectedPayment')).toEqual([]);
  expect(
    await handle.executeUpdate(shipOrderUpdate, { args: [{ actor: admin, trackingNumber: 'AFTER-ALL' }] }),
  ).toMatchObject({ status: 'SHIPPED' });
  await keepHistory('order-cancel-overtaken-by-payment', handle);
  await handle.terminate('test finished');
});

test('cash on delivery: a cancellation while the shipment is being recorded is refused, and the order still closes', async () => {
  const { orderId, handle, placed } = await placeOrder({ paymentMethod: 'COD' });
  await placed;
  const shipping = gate('markShipped', orderId);
  const ship = handle.executeUpdate(shipOrderUpdate, { args: [{ actor: admin, trackingNumber: 'COD-RACE' }] });
  await eventually(async () => shipping.reached, 'shipment being recorded');
  const refused = await updateRefusal(handle.executeUpdate(cancelOrderUpdate, { args: [{ actor: customer }] }));
  expect(refused).toMatchObject({
    type: 'INVALID_ORDER_STATE',
    message: expect.stringContaining('a shipment is in progress'),
  });
  shipping.open();
  expect(await ship).toMatchObject({ status: 'SHIPPED' });
  await handle.executeUpdate(deliverOrderUpdate, { args: [{ actor: admin }] });
  expect((await handle.result()).status).toBe('DELIVERED');
  expect(callsOf(orderId, 'cancelOrder')).toEqual([]);
});

test("a shipment the database refuses (refunded in full that moment) is refused; the refund's news then closes the order", async () => {
  const { orderId, handle, placed } = await placeOrder();
  await placed;
  await handle.signal(paymentEventSignal, paid(orderId, (await statusOf(handle)).paymentIntentId!));
  await waitForStatus(handle, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
  refundedInDatabase.add(orderId);
  const refused = await updateRefusal(
    handle.executeUpdate(shipOrderUpdate, { args: [{ actor: admin, trackingNumber: 'TOO-LATE' }] }),
  );
  expect(refused).toMatchObject({
    type: 'INVALID_ORDER_STATE',
    details: [{ status: 'REFUNDED', paymentStatus: 'REFUNDED' }],
  });
  expect((await statusOf(handle)).timeline.map((t) => t.event)).toContain('SHIPMENT_REFUSED');
  await handle.signal(orderRefundedSignal, {
    refundId: randomUUID(),
    amount: 2500,
    orderStatus: 'REFUNDED',
    paymentStatus: 'REFUNDED',
  });
  expect(await handle.result()).toMatchObject({ status: 'REFUNDED', paymentStatus: 'REFUNDED' });
  expect(callsOf(orderId, 'sendOrderEmail').map((c) => c.input.kind)).not.toContain('ORDER_SHIPPED');
  await keepHistory('order-shipment-refused-after-refund', handle);
});

test("a shipment accepted just before the full refund's news is answered with a refusal, and the order closes", async () => {
  const { orderId, handle, placed } = await placeOrder();
  await placed;
  await handle.signal(paymentEventSignal, paid(orderId, (await statusOf(handle)).paymentIntentId!));
  await waitForStatus(handle, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
  // Keep the flow busy (refunding a stray second payment) while the two requests arrive.
  const refunding = gate('refundUnexpectedPayment', orderId);
  await handle.signal(paymentEventSignal, paid(orderId, 'pi_stray'));
  await eventually(async () => refunding.reached, 'flow busy refunding');
  const ship = await handle.startUpdate(shipOrderUpdate, {
    args: [{ actor: admin, trackingNumber: 'RACE' }],
    waitForStage: WorkflowUpdateStage.ACCEPTED,
  });
  await handle.signal(orderRefundedSignal, {
    refundId: randomUUID(),
    amount: 2500,
    orderStatus: 'REFUNDED',
    paymentStatus: 'REFUNDED',
  });
  refunding.open();
  expect(await updateRefusal(ship.result())).toMatchObject({
    type: 'INVALID_ORDER_STATE',
    message: expect.stringContaining('refunded in full'),
  });
  expect(await handle.result()).toMatchObject({ status: 'REFUNDED' });
  expect(callsOf(orderId, 'markShipped')).toEqual([]);
  await keepHistory('order-shipment-pending-at-full-refund', handle);
});

test('a refund the provider refuses is reported to the admins; the order carries on', async () => {
  const { orderId, handle, placed } = await placeOrder();
  await placed;
  const intent = (await statusOf(handle)).paymentIntentId!;
  await handle.signal(paymentEventSignal, paid(orderId, intent));
  await waitForStatus(handle, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
  await handle.signal(paymentEventSignal, paid(orderId, 'pi_refund_refused'));
  const reported = await waitForStatus(
    handle,
    (o) => o.timeline.some((t) => t.event === 'UNEXPECTED_PAYMENT_REFUND_REFUSED'),
    'refusal reported',
  );
  expect(reported.timeline.at(-1)?.detail).toBe('pi_refund_refused: Charge ch_9 has been disputed.');
  const alerts = () => callsOf('refund-refused-pi_refund_refused', 'alertAdmins');
  await eventually(async () => alerts().length === 1, 'admins alerted');
  expect(alerts()[0].input).toMatchObject({
    subject: `Order ${orderId}: a payment to give back was not refunded`,
    text: expect.stringContaining('Charge ch_9 has been disputed.'),
  });

  expect(
    await handle.executeUpdate(shipOrderUpdate, { args: [{ actor: admin, trackingNumber: 'STILL-GOING' }] }),
  ).toMatchObject({ status: 'SHIPPED' });
  expect(callsOf(orderId, 'sendOrderEmail').map((c) => c.input.kind)).not.toContain('PAYMENT_REFUNDED');
  await keepHistory('order-refund-refused', handle);
  await handle.terminate('test finished');
});

test('no webhook: the workflow asks Stripe, confirms once, and ignores the webhook when it comes', async () => {
  const { orderId, handle, placed } = await placeOrder({ reconcileAfterMs: 300 });
  await placed;
  const intent = (await statusOf(handle)).paymentIntentId!;
  const confirmed = await waitForStatus(
    handle,
    (o) => o.paymentStatus === 'PENDING' && o.timeline.some((t) => t.event === 'PAYMENT_STATUS_CHECKED'),
    'a status check',
  );
  expect(confirmed.status).toBe('PENDING'); // Stripe said "still pending": keep waiting
  providerSays.set(intent, { outcome: 'SUCCEEDED', amount: 2 * UNIT_PRICE, currency: 'USD' });
  await waitForStatus(handle, (o) => o.status === 'CONFIRMED', 'CONFIRMED by the status check');
  expect(callsOf(orderId, 'recordPaymentSucceeded').map((c) => c.input.confirmedBy)).toEqual([
    'STRIPE status check (no webhook had arrived)',
  ]);

  await handle.signal(paymentEventSignal, paid(orderId, intent));
  await waitForStatus(
    handle,
    (o) => o.timeline.some((t) => t.event === 'PAYMENT_EVENT_IGNORED'),
    'late webhook ignored',
  );
  expect(callsOf(orderId, 'recordPaymentSucceeded')).toHaveLength(1);
  expect(callsOf(orderId, 'refundUnexpectedPayment')).toHaveLength(0);
  await keepHistory('order-reconciled-without-webhook', handle);
  await handle.terminate('test finished');
});

test('a Razorpay order: opened at checkout, paid, and confirmed', async () => {
  const { orderId, handle, placed } = await placeOrder({ provider: 'RAZORPAY' });
  const order = await placed;
  expect(order).toMatchObject({ paymentProvider: 'RAZORPAY', razorpayKeyId: 'rzp_test_stub' });
  expect(order.razorpayOrderId).toMatch(/^order_/);
  expect(callsOf(orderId, 'createPaymentIntent')).toHaveLength(0);
  await handle.signal(
    paymentEventSignal,
    paid(orderId, order.razorpayOrderId!, { provider: 'RAZORPAY', chargeId: 'pay_1' }),
  );
  await waitForStatus(handle, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
  await handle.executeUpdate(shipOrderUpdate, { args: [{ actor: admin, trackingNumber: 'RZP' }] });
  await handle.executeUpdate(deliverOrderUpdate, { args: [{ actor: admin }] });
  expect((await handle.result()).status).toBe('DELIVERED');
  await keepHistory('order-razorpay', handle);
});

test('a second payment of the Razorpay order that paid is refunded; news of the payment that paid is not', async () => {
  const { orderId, handle, placed } = await placeOrder({ provider: 'RAZORPAY' });
  const { razorpayOrderId } = await placed;
  const razorpay = (chargeId: string) =>
    paid(orderId, razorpayOrderId!, { provider: 'RAZORPAY', chargeId, currency: 'USD' });
  await handle.signal(paymentEventSignal, razorpay('pay_first'));
  await waitForStatus(handle, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
  // The customer paid the same Razorpay order again; then Razorpay's order.paid of the first payment.
  await handle.signal(paymentEventSignal, razorpay('pay_second'));
  await handle.signal(paymentEventSignal, razorpay('pay_first'));
  await waitForStatus(
    handle,
    (o) =>
      o.timeline.some((t) => t.event === 'UNEXPECTED_PAYMENT_REFUNDED') &&
      o.timeline.some((t) => t.event === 'PAYMENT_EVENT_IGNORED'),
    'second payment refunded, the first left alone',
  );
  expect(callsOf(orderId, 'refundUnexpectedPayment').map((c) => c.input.chargeId)).toEqual(['pay_second']);
  expect(await statusOf(handle)).toMatchObject({ status: 'CONFIRMED', paymentStatus: 'PAID' });
  // The second payment's other event (order.paid): the same refund comes back, and the timeline
  // shows one refund of pay_second, and this news as ignored.
  await handle.signal(paymentEventSignal, razorpay('pay_second'));
  const after = await waitForStatus(
    handle,
    (o) => o.timeline.filter((t) => t.event === 'PAYMENT_EVENT_IGNORED').length === 2,
    'the repeated news ignored',
  );
  expect(callsOf(orderId, 'refundUnexpectedPayment').map((c) => c.input.chargeId)).toEqual([
    'pay_second',
    'pay_second',
  ]);
  const refunds = after.timeline.filter((t) => t.event === 'UNEXPECTED_PAYMENT_REFUNDED');
  expect(refunds.map((t) => t.detail)).toEqual([expect.stringMatching(/^pay_second of order_.*which pay_first paid/)]);
  expect(after.timeline.at(-1)?.detail).toMatch(/^SUCCEEDED pay_second of order_\S+: refunded already \(refund /);
  expect(callsOf(orderId, 'sendOrderEmail').map((c) => c.input.kind)).toContain('PAYMENT_REFUNDED');
  await keepHistory('order-razorpay-second-payment-refunded', handle);
  await handle.terminate('test finished');
});

test("a success for a payment that is not one of the order's attempts is refunded and never pays it", async () => {
  const { orderId, handle, placed } = await placeOrder();
  await placed;
  const own = (await statusOf(handle)).paymentIntentId!;
  // Another order's payment, with the right amount and currency, sent here (a side door, a misrouted event).
  await handle.signal(paymentEventSignal, paid(orderId, 'pi_of_another_order'));
  const refunded = await waitForStatus(
    handle,
    (o) => o.timeline.some((t) => t.event === 'UNEXPECTED_PAYMENT_REFUNDED'),
    'foreign payment refunded',
  );
  expect(refunded).toMatchObject({ status: 'PENDING', paymentStatus: 'PENDING', paymentIntentId: own });
  expect(refunded.timeline.at(-1)?.detail).toContain('pi_of_another_order: not a payment attempt of this order');
  expect(callsOf(orderId, 'recordPaymentSucceeded')).toEqual([]);
  // Not the open attempt: verified on its own first, as before, never offered to the one step.
  expect(callsOf(orderId, 'recordSignalledPayment')).toEqual([]);
  expect(callsOf(orderId, 'verifyPaymentNews').map((c) => (c.input.event as PaymentEvent).providerPaymentId)).toEqual([
    'pi_of_another_order',
  ]);
  expect(callsOf(orderId, 'refundUnexpectedPayment').map((c) => c.input.providerPaymentId)).toEqual([
    'pi_of_another_order',
  ]);

  // Its own payment still pays it.
  await handle.signal(paymentEventSignal, paid(orderId, own));
  await waitForStatus(handle, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
  expect(
    callsOf(orderId, 'recordSignalledPayment').map((c) => (c.input.event as PaymentEvent).providerPaymentId),
  ).toEqual([own]);
  await handle.executeUpdate(shipOrderUpdate, { args: [{ actor: admin, trackingNumber: 'OWN-ONLY' }] });
  await handle.executeUpdate(deliverOrderUpdate, { args: [{ actor: admin }] });
  await handle.result();
  await keepHistory('order-foreign-payment-refunded', handle);
});

test('signalled news no stored event names is verified by the provider first, as before: paid if it agrees, else ignored', async () => {
  const { orderId, handle, placed } = await placeOrder();
  await placed;
  const intent = (await statusOf(handle)).paymentIntentId!;
  // Typed in by hand under an event id nothing stored, and the provider disagrees: moves nothing.
  const typed = paid(orderId, intent);
  notStored.add(typed.eventId);
  unverifiable.add(typed.eventId);
  await handle.signal(paymentEventSignal, typed);
  const ignored = await waitForStatus(
    handle,
    (o) => o.timeline.some((e) => e.event === 'UNVERIFIED_PAYMENT_NEWS_IGNORED'),
    'news ignored',
  );
  expect(ignored).toMatchObject({ status: 'PENDING', paymentStatus: 'PENDING' });
  expect(callsOf(orderId).map((c) => c.name)).toEqual([
    'createOrderAndReserveStock',
    'createPaymentIntent',
    'recordSignalledPayment',
    'verifyPaymentNews',
  ]);

  // The same news again, and the provider now says the same: verified, then recorded as before.
  unverifiable.delete(typed.eventId);
  await handle.signal(paymentEventSignal, typed);
  const confirmed = await waitForStatus(handle, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
  expect(confirmed.paymentStatus).toBe('PAID');
  expect(callsOf(orderId, 'verifyPaymentNews')).toHaveLength(2);
  expect(callsOf(orderId, 'recordPaymentSucceeded').map((c) => c.input)).toEqual([
    expect.objectContaining({ providerPaymentId: intent, confirm: { actor: { id: 'system', role: 'SYSTEM' } } }),
  ]);
  expect(callsOf(orderId, 'recordSignalledPayment')).toHaveLength(2); // each answered NOT_STORED
  await keepHistory('order-payment-one-step-not-stored-news-verified-by-provider', handle);
  await handle.terminate('test finished');
});

test('a wrong amount, another provider and a failure are verified first, never recorded in one step; the right payment then is', async () => {
  const { orderId, handle, placed } = await placeOrder();
  await placed;
  const intent = (await statusOf(handle)).paymentIntentId!;
  const short = paid(orderId, intent, { amount: 2 * UNIT_PRICE - 1 });
  const otherCurrency = paid(orderId, intent, { currency: 'EUR' });
  await handle.signal(paymentEventSignal, short);
  await handle.signal(paymentEventSignal, otherCurrency);
  // Both name the same PaymentIntent, whose one refund (keyed by it) the second news gets back.
  const refunded = await waitForStatus(
    handle,
    (o) => o.timeline.some((t) => t.detail?.includes('refunded already')),
    'both refunded',
  );
  expect(refunded.timeline.filter((t) => t.event === 'UNEXPECTED_PAYMENT_REFUNDED')).toHaveLength(1);
  expect(callsOf(orderId, 'refundUnexpectedPayment')).toHaveLength(2);
  // Another provider's news of this Stripe order's intent (typed by hand): checked on its own, ignored.
  const otherProvider = paid(orderId, intent, { provider: 'RAZORPAY' });
  unverifiable.add(otherProvider.eventId);
  await handle.signal(paymentEventSignal, otherProvider);
  await waitForStatus(
    handle,
    (o) => o.timeline.some((t) => t.event === 'UNVERIFIED_PAYMENT_NEWS_IGNORED'),
    'other provider ignored',
  );
  const failed = { ...paid(orderId, intent), outcome: 'FAILED' as const, failureReason: 'card_declined' };
  await handle.signal(paymentEventSignal, failed);
  await waitForStatus(handle, (o) => o.paymentStatus === 'FAILED', 'payment FAILED');
  expect(callsOf(orderId, 'recordSignalledPayment')).toEqual([]);
  expect(callsOf(orderId, 'verifyPaymentNews').map((c) => (c.input.event as PaymentEvent).eventId)).toEqual([
    short.eventId,
    otherCurrency.eventId,
    otherProvider.eventId,
    failed.eventId,
  ]);
  expect(callsOf(orderId, 'recordPaymentFailed')).toHaveLength(1);

  // The customer retries and pays the new attempt in full: one step.
  await handle.executeUpdate(retryPaymentUpdate, { args: [{ actor: customer }] });
  const second = (await statusOf(handle)).paymentIntentId!;
  await handle.signal(paymentEventSignal, paid(orderId, second));
  await waitForStatus(handle, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
  expect(callsOf(orderId, 'recordSignalledPayment').map((c) => c.input.attempt)).toEqual([2]);
  expect(callsOf(orderId, 'verifyPaymentNews')).toHaveLength(4);
  expect(callsOf(orderId, 'recordPaymentSucceeded')).toEqual([]);
  await keepHistory('order-payment-one-step-wrong-amount-then-paid', handle);
  await handle.terminate('test finished');
});

test('the one step whose worker dies after its commit is retried, answered the same, and the order paid once', async () => {
  const { orderId, handle, placed } = await placeOrder();
  await placed;
  workerDiesAfterCommit.add(orderId);
  await handle.signal(paymentEventSignal, paid(orderId, (await statusOf(handle)).paymentIntentId!));
  const confirmed = await waitForStatus(handle, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
  expect(callsOf(orderId, 'recordSignalledPayment')).toHaveLength(2);
  expect(confirmed.timeline.filter((t) => t.event === 'PAYMENT_SUCCEEDED')).toHaveLength(1);
  const confirmations = () => callsOf(orderId, 'sendOrderEmail').filter((c) => c.input.kind === 'ORDER_CONFIRMED');
  await eventually(async () => confirmations().length > 0, 'confirmation email');
  expect(confirmations()).toHaveLength(1);
  await keepHistory('order-payment-one-step-retried-after-worker-death', handle);
  await handle.terminate('test finished');
});
