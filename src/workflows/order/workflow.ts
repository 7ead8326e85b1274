/**
 * One workflow per order (`order-<orderId>`). It replaces the runbook's "wait for the webhook",
 * "a cron job releases stock after 30 minutes" and the "safe" status-update SQL:
 *
 *   reserve stock -> open a PaymentIntent -> wait for payment until the reservation expires
 *   -> commit the sale and confirm -> wait for shipment -> wait for delivery.
 *
 * Handlers only record what was asked; the main flow below acts on it, one thing at a time, so
 * concurrent requests can never interleave half-done transitions.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { OrderEmailKind } from '../../activities/email';
import {
  cancelOrderUpdate,
  deliverOrderUpdate,
  getOrderQuery,
  paymentEventSignal,
  placeOrderUpdate,
  retryPaymentUpdate,
  shipOrderUpdate,
  type CancelOrderRequest,
  type CancelReason,
  type DeliverOrderRequest,
  type OrderView,
  type OrderWorkflowInput,
  type PaymentEvent,
  type PaymentRetryRequest,
  type PlacedOrder,
  type ShipOrderRequest,
} from './messages';
import { ErrorCode, type Actor, type OrderStatus } from '../vocabulary';
import { orderRefundedSignal } from '../refund/messages';
import { businessFailure, refundRefusedAlert, refusal } from '../failures';
import { searchAttributes } from '../search-attributes';
import { orderWorkflowId } from '../ids';

// Timeouts are chosen against API_TEMPORAL_DEADLINE (30 s by default): a request waiting on an
// update (checkout, payment retry, cancel, ship, deliver) must see an activity lost with its worker
// retried, and finished, before the API gives up on it.
//
// Database writes (createOrderAndReserveStock, confirmOrder, cancelOrder, markShipped, ...): one
// short transaction, milliseconds even under load. 5 s start-to-close: a write lost with its worker
// (kill -9) is retried at +5.5 s, so a checkout survives even two lost attempts within its deadline.
// Retried until they succeed (business refusals are non-retryable failures), every 0.5 s at first,
// then backing off to 30 s for an outage.
const store = proxyActivities<Activities>({
  startToCloseTimeout: '5s',
  retry: { initialInterval: '500ms', maximumInterval: '30s' },
});
// Opening a PaymentIntent or Razorpay order happens while the customer waits at checkout. The
// provider answers in about a second; 6 s start-to-close and three attempts take at most
// 6 + 0.5 + 6 + 1 + 6 = 19.5 s, inside the 30 s deadline, then the order is cancelled as
// PAYMENT_PROVIDER_UNAVAILABLE and the customer told so.
const checkoutPayments = proxyActivities<Activities>({
  startToCloseTimeout: '6s',
  retry: { initialInterval: '500ms', maximumAttempts: 3 },
});
// Cancelling a PaymentIntent (a cancel request waits on it), asking the provider for a payment's
// status and refunding must eventually happen, however long the provider is unreachable. One
// provider call takes about a second (the SDK gives up at 10 s): 12 s start-to-close lets a slow
// call finish and still retries a lost one once within a waiting request's deadline.
const payments = proxyActivities<Activities>({
  startToCloseTimeout: '12s',
  retry: { initialInterval: '2s', maximumInterval: '5m' },
});
// Email is never on a request's path (sent after the update has answered); SMTP can be slow, so
// 30 s, and retried for as long as the mail server is down.
const mail = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '5s', maximumInterval: '10m' },
});

const SYSTEM: Actor = { id: 'system', role: 'SYSTEM' };
/** What paid an order paid from the wallet (no provider payment can be it). */
const WALLET_PAYMENT = 'wallet';
const DEFAULT_RECONCILE_AFTER_MS = 10 * 60_000;
// Patch: the late-payment email is keyed by the refunded charge, as the webhook workflow keys it.
const REFUND_EMAIL_KEYED_BY_CHARGE = 'refund-email-keyed-by-charge';
// Patch: a refund the provider refuses is reported to admins instead of failing the order.
const REFUND_REFUSAL_ALERTS_ADMINS = 'refund-refusal-alerts-admins';
// Patch: the order remembers which payment paid it, through refunds too, and a payment for an
// earlier attempt that succeeds after all pays the order (the current attempt is closed).
const PAID_BY_REMEMBERED = 'paid-by-remembered';
// Patch: a cancellation overtaken by the payment is refused, never carried out on a paid order.
const CANCEL_REFUSED_ONCE_PAID = 'cancel-refused-once-paid';
// Patch: a shipment the database refuses (the order was refunded in full that moment) is refused.
const SHIPMENT_REFUSAL_ANSWERED = 'shipment-refusal-answered';
// Patch: a shipment pending when the full refund's news arrives is refused (it waited forever).
const REFUND_ANSWERS_PENDING_SHIPMENT = 'refund-answers-pending-shipment';
// Patch: a success for a payment that is not one of this order's own attempts (another order's
// payment, routed here by a side door) is refunded; before, any matching amount paid the order.
const ONLY_OWN_ATTEMPTS_PAY = 'only-own-attempts-pay';

export async function orderWorkflow(input: OrderWorkflowInput): Promise<OrderView> {
  const order: OrderView = {
    orderId: input.orderId,
    customerId: input.customerId,
    status: 'PENDING',
    paymentStatus: 'PENDING',
    paymentMethod: input.paymentMethod,
    currency: input.currency ?? '',
    totalAmount: 0,
    items: [],
    paymentAttempt: 0,
    paymentProvider: input.paymentMethod === 'CARD' ? (input.provider ?? 'STRIPE') : undefined,
    timeline: [],
  };
  const provider = input.provider ?? 'STRIPE';
  let clientSecret: string | undefined;
  let razorpayKeyId: string | undefined;
  let placement: { failure?: ApplicationFailure } | undefined;
  const paymentInbox: PaymentEvent[] = [];
  const seenPaymentEvents = new Set<string>();
  let cancelRequest: CancelOrderRequest | undefined;
  let cancelRefusal: ApplicationFailure | undefined;
  /** The provider payment (PaymentIntent or Razorpay order) that paid the order, once one has. */
  let paidBy: string | undefined;
  /** Every payment attempt opened for this order (PaymentIntents or Razorpay orders), oldest first. */
  const attempts: string[] = [];
  let retryRequest: PaymentRetryRequest | undefined;
  let retryFailure: ApplicationFailure | undefined;
  let shipRequest: ShipOrderRequest | undefined;
  let shipRefusal: ApplicationFailure | undefined;
  let deliverRequest: DeliverOrderRequest | undefined;
  const emails: Promise<void>[] = [];

  // ---- Handlers ------------------------------------------------------------------------------

  setHandler(getOrderQuery, () => order, {
    description: 'The live order: status, payment status, amounts, items and its timeline.',
  });

  setHandler(
    placeOrderUpdate,
    async (): Promise<PlacedOrder> => {
      await condition(() => placement !== undefined);
      if (placement?.failure) throw placement.failure;
      return {
        orderId: order.orderId,
        status: order.status,
        paymentStatus: order.paymentStatus,
        paymentMethod: order.paymentMethod,
        totalAmount: order.totalAmount,
        currency: order.currency,
        items: order.items,
        reservationExpiresAt: order.reservationExpiresAt,
        paymentProvider: order.paymentProvider,
        clientSecret,
        razorpayOrderId: order.razorpayOrderId,
        razorpayKeyId,
      };
    },
    { description: 'Checkout: answers once stock is reserved and payment can start (sent with update-with-start).' },
  );

  setHandler(
    paymentEventSignal,
    (event) => {
      if (seenPaymentEvents.has(event.eventId)) return; // a redelivered webhook has no second effect
      seenPaymentEvents.add(event.eventId);
      paymentInbox.push(event);
    },
    {
      description:
        'A payment outcome from a provider: {provider, eventId, outcome: "SUCCEEDED"|"FAILED", providerPaymentId, amount, currency, failureReason?}.',
    },
  );

  setHandler(
    orderRefundedSignal,
    (refunded) => {
      order.paymentStatus = refunded.paymentStatus;
      const detail = `refund ${refunded.refundId}: ${refunded.amount} ${order.currency}, payment ${refunded.paymentStatus}`;
      // An order on its way keeps its fulfilment status; the payment status says what was refunded.
      if (order.status === 'SHIPPED') record('ORDER_REFUNDED', SYSTEM, detail);
      else moveTo(refunded.orderStatus, 'ORDER_REFUNDED', SYSTEM, detail);
    },
    { description: 'Sent by a completed refund: {refundId, amount, orderStatus, paymentStatus}.' },
  );

  setHandler(
    retryPaymentUpdate,
    async (request) => {
      const attempt = order.paymentAttempt + 1;
      retryRequest = request;
      retryFailure = undefined;
      await condition(() => retryRequest === undefined || order.status !== 'PENDING');
      if (order.paymentAttempt < attempt)
        throw retryFailure ?? invalidState(order, 'the order stopped waiting for payment');
      return {
        orderId: order.orderId,
        paymentAttempt: order.paymentAttempt,
        clientSecret,
        razorpayOrderId: order.razorpayOrderId,
        razorpayKeyId,
        reservationExpiresAt: order.reservationExpiresAt,
      };
    },
    {
      validator: (request) => {
        assertActorMayAct(order, request.actor);
        if (order.paymentMethod !== 'CARD' || order.status !== 'PENDING' || order.paymentStatus !== 'FAILED') {
          throw invalidState(order, 'a new payment can only be started after a failed one, while the order is PENDING');
        }
        if (retryRequest || cancelRequest) throw invalidState(order, 'another request for this order is in progress');
      },
      description: 'Start a new payment attempt (new PaymentIntent) after a failed one: {actor: {id, role}}.',
    },
  );

  setHandler(
    cancelOrderUpdate,
    async (request) => {
      cancelRequest = request;
      cancelRefusal = undefined;
      await condition(() => order.status === 'CANCELLED' || cancelRefusal !== undefined);
      if (order.status !== 'CANCELLED') throw cancelRefusal;
      return order;
    },
    {
      validator: (request) => {
        assertActorMayAct(order, request.actor);
        if (!isCancellable(order) || !placement || placement.failure) {
          throw invalidState(order, 'only an unpaid order that has not shipped can be cancelled');
        }
        if (cancelRequest) throw invalidState(order, 'the order is already being cancelled');
        if (shipRequest) throw invalidState(order, 'a shipment is in progress');
      },
      description: 'Cancel an unpaid order and release its stock: {actor: {id, role}, reason?}.',
    },
  );

  setHandler(
    shipOrderUpdate,
    async (request) => {
      shipRequest = request;
      shipRefusal = undefined;
      await condition(() => order.status === 'SHIPPED' || shipRefusal !== undefined);
      if (order.status !== 'SHIPPED') throw shipRefusal;
      return order;
    },
    {
      validator: (request) => {
        assertAdmin(request.actor);
        if (!(order.status === 'CONFIRMED' || order.status === 'PARTIALLY_REFUNDED')) {
          throw invalidState(order, 'only a CONFIRMED (or partially refunded) order can be shipped');
        }
        if (shipRequest) throw invalidState(order, 'a shipment is already in progress');
        if (cancelRequest) throw invalidState(order, 'the order is being cancelled');
        if (!request.trackingNumber?.trim()) {
          throw refusal(ErrorCode.VALIDATION_ERROR, 'trackingNumber is required');
        }
      },
      description: 'Admin: mark a CONFIRMED order shipped: {actor: {id, role: "ADMIN"}, trackingNumber, carrier?}.',
    },
  );

  setHandler(
    deliverOrderUpdate,
    async (request) => {
      deliverRequest = request;
      await condition(() => order.status === 'DELIVERED');
      return order;
    },
    {
      validator: (request) => {
        assertAdmin(request.actor);
        if (order.status !== 'SHIPPED') throw invalidState(order, 'only a SHIPPED order can be delivered');
        if (deliverRequest) throw invalidState(order, 'a delivery is already in progress');
      },
      description: 'Admin: mark a SHIPPED order delivered: {actor: {id, role: "ADMIN"}}.',
    },
  );

  // ---- Helpers that keep state, search attributes, the timeline and the Web UI in step ---------

  function record(event: string, actor: Actor, detail?: string): void {
    order.timeline.push({ at: new Date().toISOString(), event, actor, detail });
  }

  function moveTo(status: OrderStatus, event: string, actor: Actor, detail?: string): void {
    order.status = status;
    upsertSearchAttributes([{ key: searchAttributes.orderStatus, value: status }]);
    record(event, actor, detail);
    setCurrentDetails(describe(order));
  }

  function sendEmail(kind: OrderEmailKind, key?: string): void {
    // Emails are sent alongside the flow: a slow mail server never holds up the order.
    emails.push(mail.sendOrderEmail({ orderId: order.orderId, kind, key }));
  }

  async function finish(): Promise<OrderView> {
    await Promise.all(emails);
    await condition(allHandlersFinished);
    // A payment signalled while we were finishing is refunded, never dropped with the workflow.
    await waitFor(() => true);
    await Promise.all(emails);
    return order;
  }

  /** The current payment attempt at the provider: a Stripe PaymentIntent or a Razorpay order. */
  function currentPayment(): string | undefined {
    return provider === 'RAZORPAY' ? order.razorpayOrderId : order.paymentIntentId;
  }

  /** Opens the next payment attempt; a previous PaymentIntent is cancelled so it cannot also be paid. */
  async function openPaymentAttempt(): Promise<void> {
    const previous = currentPayment();
    const attempt = order.paymentAttempt + 1;
    const request = { orderId: order.orderId, attempt, amount: order.totalAmount, currency: order.currency };
    if (provider === 'RAZORPAY') {
      const opened = await checkoutPayments.createRazorpayOrder(request);
      order.razorpayOrderId = opened.razorpayOrderId;
      razorpayKeyId = opened.keyId;
    } else {
      const intent = await checkoutPayments.createPaymentIntent(request);
      order.paymentIntentId = intent.paymentIntentId;
      clientSecret = intent.clientSecret;
    }
    attempts.push(currentPayment()!);
    order.paymentAttempt = attempt;
    order.paymentStatus = 'PENDING';
    record(
      'PAYMENT_STARTED',
      SYSTEM,
      `attempt ${attempt}, ${provider === 'RAZORPAY' ? 'Razorpay order' : 'PaymentIntent'} ${currentPayment()}`,
    );
    setCurrentDetails(describe(order));
    // A Razorpay order cannot be cancelled (it lapses unpaid); a PaymentIntent can, and must be.
    if (previous && provider === 'STRIPE')
      await payments.cancelPaymentIntent({ orderId: order.orderId, paymentIntentId: previous });
  }

  /** Asks the provider about the current attempt; answers what it found as a payment event. */
  async function askProvider(why: string): Promise<PaymentEvent | undefined> {
    const reference = currentPayment()!;
    const found = await payments.fetchPaymentStatus({ orderId: order.orderId, provider, providerPaymentId: reference });
    record('PAYMENT_STATUS_CHECKED', SYSTEM, `${why}: ${provider} reports ${found.outcome} for ${reference}`);
    if (found.outcome === 'PENDING') return undefined;
    return {
      provider,
      eventId: `reconciliation-${reference}-${found.outcome}`,
      outcome: found.outcome,
      providerPaymentId: reference,
      chargeId: found.chargeId,
      amount: found.amount,
      currency: found.currency,
      failureReason: found.failureReason,
    };
  }

  /** A payment made in the last moment before cancellation, which cancelling reveals. */
  async function lastMinutePayment(): Promise<PaymentEvent | undefined> {
    if (provider === 'RAZORPAY') {
      const found = await askProvider('order cancelled');
      return found?.outcome === 'SUCCEEDED' ? found : undefined;
    }
    const { status } = await payments.cancelPaymentIntent({
      orderId: order.orderId,
      paymentIntentId: order.paymentIntentId!,
    });
    if (status !== 'succeeded') return undefined;
    return {
      provider,
      eventId: `cancel-${order.paymentIntentId}`,
      outcome: 'SUCCEEDED',
      providerPaymentId: order.paymentIntentId!,
      amount: order.totalAmount,
      currency: order.currency,
    };
  }

  async function cancel(reason: CancelReason, actor: Actor, note?: string): Promise<void> {
    await store.cancelOrder({ orderId: order.orderId, reason, note, actor });
    order.cancelReason = reason;
    order.cancelNote = note;
    moveTo('CANCELLED', 'ORDER_CANCELLED', actor, note ? `${reason}: ${note}` : reason);
    sendEmail('ORDER_CANCELLED');
    if (currentPayment()) {
      // If the customer paid at the last moment, cancelling reveals it: refund, never keep it.
      const paidAnyway = await lastMinutePayment();
      if (paidAnyway) await refund(paidAnyway, 'paid after the order was cancelled');
    }
  }

  async function refund(event: PaymentEvent, why: string): Promise<void> {
    let refundId: string;
    try {
      ({ refundId } = await payments.refundUnexpectedPayment({
        orderId: order.orderId,
        provider: event.provider,
        providerPaymentId: event.providerPaymentId,
        chargeId: event.chargeId,
        amount: event.amount,
        reason: why,
      }));
    } catch (error) {
      if (!patched(REFUND_REFUSAL_ALERTS_ADMINS)) throw error;
      // The provider refused the refund: the money is still with us, so a person must know.
      const refusal = businessFailure(error).message;
      record('UNEXPECTED_PAYMENT_REFUND_REFUSED', SYSTEM, `${event.providerPaymentId}: ${refusal}`);
      await mail.alertAdmins(
        refundRefusedAlert({
          orderId: order.orderId,
          payment: event,
          why,
          refusal,
          workflowId: orderWorkflowId(order.orderId),
        }),
      );
      return;
    }
    record('UNEXPECTED_PAYMENT_REFUNDED', SYSTEM, `${event.providerPaymentId}: ${why} (refund ${refundId})`);
    // One email per refunded payment, keyed as the webhook workflow keys it (Razorpay: the pay_ id).
    sendEmail(
      'PAYMENT_REFUNDED',
      patched(REFUND_EMAIL_KEYED_BY_CHARGE) ? (event.chargeId ?? event.providerPaymentId) : event.providerPaymentId,
    );
  }

  /**
   * An earlier attempt was paid after all (it succeeded as the next one opened): that payment is
   * the order's, and the attempt left open is closed so it cannot also be paid. A Razorpay order
   * cannot be closed: a payment for it is refunded when it is reported.
   */
  async function closeAttempt(attempt: string): Promise<void> {
    if (provider === 'RAZORPAY') order.razorpayOrderId = paidBy;
    else order.paymentIntentId = paidBy;
    record('PAYMENT_ATTEMPT_CLOSED', SYSTEM, `${attempt}: an earlier attempt, ${paidBy}, paid the order`);
    if (provider !== 'STRIPE') return;
    const { status } = await payments.cancelPaymentIntent({ orderId: order.orderId, paymentIntentId: attempt });
    if (status === 'succeeded') {
      // Paid as well, in the same moment: refunded with whatever else arrives meanwhile.
      paymentInbox.push({
        provider,
        eventId: `cancel-${attempt}`,
        outcome: 'SUCCEEDED',
        providerPaymentId: attempt,
        amount: order.totalAmount,
        currency: order.currency,
      });
    }
  }

  /** Handles a payment event while the order waits for payment; true once the order is PAID. */
  async function applyPayment(event: PaymentEvent): Promise<boolean> {
    if (event.outcome === 'FAILED') {
      if (event.providerPaymentId !== currentPayment()) {
        record('STALE_PAYMENT_FAILURE_IGNORED', SYSTEM, event.providerPaymentId);
        return false;
      }
      await store.recordPaymentFailed({
        orderId: order.orderId,
        attempt: order.paymentAttempt,
        reason: event.failureReason ?? 'payment failed',
      });
      order.paymentStatus = 'FAILED';
      record('PAYMENT_FAILED', providerActor(event), event.failureReason);
      setCurrentDetails(describe(order));
      return false;
    }
    if (!attempts.includes(event.providerPaymentId) && patched(ONLY_OWN_ATTEMPTS_PAY)) {
      await refund(event, 'not a payment attempt of this order');
      return false;
    }
    if (event.amount !== order.totalAmount || event.currency.toUpperCase() !== order.currency.toUpperCase()) {
      await refund(
        event,
        `amount ${event.amount} ${event.currency} does not match the order total ${order.totalAmount} ${order.currency}`,
      );
      return false;
    }
    const openAttempt = currentPayment();
    await store.recordPaymentSucceeded({
      orderId: order.orderId,
      attempt: order.paymentAttempt,
      providerPaymentId: event.providerPaymentId,
      confirmedBy: confirmationPath(event),
    });
    paidBy = event.providerPaymentId;
    order.paymentStatus = 'PAID';
    moveTo(
      'PAID',
      'PAYMENT_SUCCEEDED',
      providerActor(event),
      `${event.providerPaymentId}, confirmed by ${confirmationPath(event)}`,
    );
    if (openAttempt && openAttempt !== paidBy && patched(PAID_BY_REMEMBERED)) await closeAttempt(openAttempt);
    return true;
  }

  /** Waits for `ready`; any payment arriving meanwhile is for an order no longer awaiting one. */
  async function waitFor(ready: () => boolean): Promise<void> {
    for (;;) {
      await condition(() => ready() || paymentInbox.length > 0);
      for (let event = paymentInbox.shift(); event; event = paymentInbox.shift()) {
        const keptPayment = patched(PAID_BY_REMEMBERED) ? paidBy : paidWith(order);
        if (event.outcome === 'SUCCEEDED' && event.providerPaymentId !== keptPayment) {
          await refund(event, `payment arrived while the order was ${order.status}`);
        } else {
          record(
            'PAYMENT_EVENT_IGNORED',
            providerActor(event),
            `${event.outcome} ${event.providerPaymentId} while ${order.status}`,
          );
        }
      }
      if (ready()) return;
    }
  }

  // ---- The order, as the runbook reads ---------------------------------------------------------

  // 1. Reserve the stock. Nothing is charged if any item is short.
  const reservationExpiresAt = new Date(Date.now() + input.reservationTtlMs).toISOString();
  try {
    const placed = await store.createOrderAndReserveStock({
      ...input,
      reservationExpiresAt: input.paymentMethod === 'CARD' ? reservationExpiresAt : undefined,
      actor: { id: input.customerId, role: 'CUSTOMER' },
    });
    Object.assign(order, placed);
    if (input.paymentMethod === 'CARD') order.reservationExpiresAt = reservationExpiresAt;
    record(
      'STOCK_RESERVED',
      { id: input.customerId, role: 'CUSTOMER' },
      order.items.map((i) => `${i.quantity} x ${i.sku}`).join(', '),
    );
  } catch (error) {
    const failure = businessFailure(error);
    placement = { failure };
    order.cancelReason =
      failure.type === ErrorCode.INSUFFICIENT_WALLET_BALANCE || failure.type === ErrorCode.WALLET_CURRENCY_MISMATCH
        ? failure.type
        : 'INSUFFICIENT_STOCK';
    moveTo('CANCELLED', 'CHECKOUT_REFUSED', SYSTEM, failure.message);
    return finish();
  }

  if (input.paymentMethod === 'COD') {
    // 2a. Cash on delivery: confirmed at once, paid when delivered.
    await store.confirmOrder({ orderId: order.orderId, commitStock: false, actor: SYSTEM });
    moveTo('CONFIRMED', 'ORDER_CONFIRMED', SYSTEM, 'cash on delivery');
    placement = {};
    sendEmail('ORDER_CONFIRMED');
  } else if (input.paymentMethod === 'WALLET') {
    // 2b. Store credit: the wallet paid in the reservation's own transaction; confirmed at once.
    paidBy = WALLET_PAYMENT;
    order.paymentStatus = 'PAID';
    moveTo('PAID', 'PAYMENT_SUCCEEDED', { id: input.customerId, role: 'CUSTOMER' }, 'paid from the wallet');
    await store.confirmOrder({ orderId: order.orderId, commitStock: true, actor: SYSTEM });
    moveTo('CONFIRMED', 'ORDER_CONFIRMED', SYSTEM, 'paid from the wallet');
    placement = {};
    sendEmail('ORDER_CONFIRMED');
  } else {
    // 2c. Open the PaymentIntent; checkout answers with its client secret.
    try {
      await openPaymentAttempt();
    } catch (error) {
      const failure = providerUnavailable(error);
      placement = { failure };
      await store.cancelOrder({ orderId: order.orderId, reason: 'PAYMENT_PROVIDER_UNAVAILABLE', actor: SYSTEM });
      order.cancelReason = 'PAYMENT_PROVIDER_UNAVAILABLE';
      moveTo('CANCELLED', 'CHECKOUT_FAILED', SYSTEM, failure.message);
      return finish();
    }
    placement = {};
    setCurrentDetails(describe(order));

    // 3. Wait for the payment until the reservation expires (the runbook's 30-minute cron job).
    //    A webhook that is late gets chased: after a while we ask the provider ourselves.
    const reconcile = patched('payment-reconciliation');
    const reconcileAfterMs = input.reconcileAfterMs ?? DEFAULT_RECONCILE_AFTER_MS;
    let nextCheckAt = Date.now() + reconcileAfterMs;
    for (;;) {
      const expiresAt = Date.parse(reservationExpiresAt);
      const wakeAt = reconcile ? Math.min(expiresAt, nextCheckAt) : expiresAt;
      const woke = await condition(
        () => cancelRequest !== undefined || retryRequest !== undefined || paymentInbox.length > 0,
        Math.max(wakeAt - Date.now(), 1),
      );
      if (!woke && Date.now() < expiresAt) {
        nextCheckAt = Date.now() + reconcileAfterMs;
        const found = await askProvider('no webhook yet');
        if (found && !seenPaymentEvents.has(found.eventId)) {
          seenPaymentEvents.add(found.eventId);
          paymentInbox.push(found);
        }
        continue;
      }
      if (!woke) {
        await cancel('RESERVATION_EXPIRED', SYSTEM);
        break;
      }
      if (cancelRequest) {
        const actor = cancelRequest.actor;
        await cancel(
          actor.role === 'ADMIN' ? 'CANCELLED_BY_ADMIN' : 'CANCELLED_BY_CUSTOMER',
          actor,
          cancelRequest.reason,
        );
        break;
      }
      const event = paymentInbox.shift();
      if (event) {
        if (await applyPayment(event)) break;
        continue;
      }
      if (retryRequest) {
        record('PAYMENT_RETRY_REQUESTED', retryRequest.actor);
        try {
          await openPaymentAttempt();
          nextCheckAt = Date.now() + reconcileAfterMs;
        } catch (error) {
          retryFailure = providerUnavailable(error);
          record('PAYMENT_RETRY_FAILED', SYSTEM, retryFailure.message);
        }
        retryRequest = undefined;
      }
    }
    if (order.status === 'CANCELLED') {
      await waitFor(() => true); // refund anything that arrived with the cancellation
      return finish();
    }

    // 4. Paid: a cancellation asked for while the payment was being recorded came too late.
    if (cancelRequest && patched(CANCEL_REFUSED_ONCE_PAID)) {
      record('CANCEL_REFUSED', cancelRequest.actor, 'the payment arrived first');
      cancelRefusal = invalidState(order, 'the payment arrived before the cancellation; ask for a refund instead');
      cancelRequest = undefined;
    }
    //    The reserved units become a sale and the customer hears from us.
    await store.confirmOrder({ orderId: order.orderId, commitStock: true, actor: SYSTEM });
    moveTo('CONFIRMED', 'ORDER_CONFIRMED', SYSTEM);
    sendEmail('ORDER_CONFIRMED');
  }

  // 5. Wait for the warehouse to ship. An unpaid (cash on delivery) order may be cancelled until
  //    then; an order refunded in full has nothing left to ship.
  let shipment: ShipOrderRequest;
  for (;;) {
    await waitFor(() => shipRequest !== undefined || cancelRequest !== undefined || order.status === 'REFUNDED');
    if (order.status === 'REFUNDED') {
      // A shipment asked for just before the full refund's news arrived is answered, not left waiting.
      if (shipRequest && patched(REFUND_ANSWERS_PENDING_SHIPMENT)) {
        shipRefusal = invalidState(order, 'the order was refunded in full; nothing ships');
        record('SHIPMENT_REFUSED', shipRequest.actor, 'refunded in full');
        shipRequest = undefined;
      }
      return finish();
    }
    if (cancelRequest) {
      await cancel(
        cancelRequest.actor.role === 'ADMIN' ? 'CANCELLED_BY_ADMIN' : 'CANCELLED_BY_CUSTOMER',
        cancelRequest.actor,
        cancelRequest.reason,
      );
      return finish();
    }
    shipment = shipRequest!;
    try {
      await store.markShipped({
        orderId: order.orderId,
        trackingNumber: shipment.trackingNumber,
        carrier: shipment.carrier,
        commitStock: order.paymentMethod === 'COD',
        actor: shipment.actor,
      });
      break;
    } catch (error) {
      if (!patched(SHIPMENT_REFUSAL_ANSWERED)) throw error;
      // Refunded in full in the same moment: the refund's news is on its way; nothing ships.
      shipRefusal = businessFailure(error);
      shipRequest = undefined;
      record('SHIPMENT_REFUSED', shipment.actor, shipRefusal.message);
    }
  }
  order.trackingNumber = shipment.trackingNumber;
  order.carrier = shipment.carrier;
  moveTo(
    'SHIPPED',
    'ORDER_SHIPPED',
    shipment.actor,
    `tracking ${shipment.trackingNumber}${shipment.carrier ? ` (${shipment.carrier})` : ''}`,
  );
  sendEmail('ORDER_SHIPPED');

  // 6. Wait for delivery; cash on delivery is collected and recorded now.
  await waitFor(() => deliverRequest !== undefined);
  const delivery = deliverRequest!;
  const cashCollected =
    order.paymentMethod === 'COD' ? { amount: order.totalAmount, currency: order.currency } : undefined;
  await store.markDelivered({ orderId: order.orderId, cashCollected, actor: delivery.actor });
  if (cashCollected) order.paymentStatus = 'PAID';
  moveTo('DELIVERED', 'ORDER_DELIVERED', delivery.actor, cashCollected ? 'cash collected' : undefined);
  return finish();
}

// ---- Guards and small pure helpers ---------------------------------------------------------------

function isCancellable(order: OrderView): boolean {
  if (order.paymentStatus === 'PAID') return false;
  return order.status === 'PENDING' || (order.paymentMethod === 'COD' && order.status === 'CONFIRMED');
}

function invalidState(order: OrderView, why: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: ErrorCode.INVALID_ORDER_STATE,
    message: `Order is ${order.status} (payment ${order.paymentStatus}): ${why}`,
    details: [{ status: order.status, paymentStatus: order.paymentStatus }],
    nonRetryable: true,
  });
}

function assertAdmin(actor: Actor): void {
  if (actor?.role !== 'ADMIN') {
    throw refusal(ErrorCode.FORBIDDEN, 'Only an admin may do this');
  }
}

function assertActorMayAct(order: OrderView, actor: Actor): void {
  if (actor?.role === 'ADMIN' || actor?.role === 'SYSTEM') return;
  if (actor?.role !== 'CUSTOMER' || actor.id !== order.customerId) {
    throw refusal(ErrorCode.FORBIDDEN, 'Only the customer who placed the order may do this');
  }
}

function isReconciliation(event: PaymentEvent): boolean {
  return event.eventId.startsWith('reconciliation-');
}

function providerActor(event: PaymentEvent): Actor {
  return { id: `${event.provider.toLowerCase()}${isReconciliation(event) ? '-status-check' : ''}`, role: 'SYSTEM' };
}

/** Which path confirmed a payment: the provider's webhook, or our own status check when none came. */
function confirmationPath(event: PaymentEvent): string {
  return isReconciliation(event)
    ? `${event.provider} status check (no webhook had arrived)`
    : `${event.provider} webhook ${event.eventId}`;
}

/** Before PAID_BY_REMEMBERED: the current attempt, and only while the payment status is PAID. */
function paidWith(order: OrderView): string | undefined {
  return order.paymentStatus === 'PAID' ? (order.paymentIntentId ?? order.razorpayOrderId) : undefined;
}

function providerUnavailable(error: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type: ErrorCode.PAYMENT_PROVIDER_UNAVAILABLE,
    message: `Payment could not be started: ${businessFailure(error).message}`,
    nonRetryable: true,
  });
}

function describe(order: OrderView): string {
  switch (order.status) {
    case 'PENDING':
      return order.paymentMethod === 'CARD'
        ? `Waiting for payment (attempt ${order.paymentAttempt}, ${order.paymentStatus}) until ${order.reservationExpiresAt}. ` +
            'Send signal paymentEvent, or update cancelOrder.'
        : 'Placing order.';
    case 'CONFIRMED':
      return 'Confirmed: waiting for an admin to ship it (update shipOrder with trackingNumber).';
    case 'SHIPPED':
      return `Shipped (tracking ${order.trackingNumber}): waiting for delivery (update deliverOrder).`;
    default:
      return `${order.status}${order.cancelReason ? ` (${order.cancelReason})` : ''}.`;
  }
}
