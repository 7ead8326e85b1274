/**
 * The order routes: checkout, an order's view and list, payment retry, cancel, ship and deliver.
 *
 * Checkout checks the cart once. The API validates the request's shape (ids, quantities, payment
 * method, currency code), the payments switch and the Idempotency-Key, and reads nothing from the
 * catalogue: it starts the order's workflow with update-with-start, and the workflow's first step
 * (createOrderAndReserveStock, src/orders/placement.ts) prices the lines and reserves their stock
 * in one transaction. That is the only place the check can be right: a price, a product or a
 * stock level read here could change before the reservation, and the workflow must refuse what it
 * is given anyway (a workflow can be started by hand in Temporal, not only by this route). So the
 * placement's refusal (404 PRODUCT_NOT_FOUND, 400 CURRENCY_MISMATCH, 409 INSUFFICIENT_STOCK, ...,
 * the same codes, statuses and details as when the API priced the cart first) is the update's
 * failure, which the error handler maps like any workflow refusal; the transaction rolled back, so
 * no order row, reservation or ledger entry is left.
 *
 * The workflow started for a refused cart ends at once, completed (not failed: it did its job),
 * its view CANCELLED with the refusal's code as cancelReason and the refusal itself kept
 * (checkoutRefusal), and OrderStatus CANCELLED in Temporal's visibility. Its id is the order id:
 * random without a key, so nothing later meets it; named by the customer's key with one, so the
 * key is spent like that of any checkout that ran, as a stock refusal's always was: the same body
 * again is answered the same refusal from the closed workflow (placedEarlier), another body is 422
 * IDEMPOTENCY_KEY_REUSED, and a new cart takes a new key. The id is never run twice
 * (REJECT_DUPLICATE): one workflow per order id, which the view, the history and the key rely on.
 */
import {
  ServiceError,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import {
  placeOrderUpdate,
  type CheckoutRefusal,
  type OrderView,
  type OrderWorkflowInput,
  type PlacedOrder,
} from '../workflows/order/messages';
import { ErrorCode, type Actor } from '../workflows/vocabulary';
import type { orderWorkflow } from '../workflows/order/workflow';
import { searchAttributes } from '../workflows/search-attributes';
import { checkoutUpdateId, orderWorkflowId } from '../workflows/ids';
import { RequestSeals } from '../access/request-seals';
import { assertPaymentsEnabled } from '../payments/switch';
import { mergeLines } from '../inventory/variants';
import { authenticate, currentUser, requireRole, type AuthUser } from './auth';
import type { ApiDeps } from './deps';
import { DomainError } from '../platform/errors';
import { parse } from './errors';
import { after, cursorParam, encodeCursor, newestFirst } from './paging';
import { forCustomer, orderSummary, orderView } from '../orders/view';
import { cancelOrder, deliverOrder, orderHandle, retryPayment, shipOrder } from '../orders/transitions';
import { idempotencyKeyOf } from './idempotency';
import { idFromKey, keyReused, requestFingerprint } from '../platform/idempotency';

export const checkoutBody = z.object({
  items: z
    .array(
      z.object({
        productId: z.string().uuid(),
        variantId: z.string().uuid().optional(),
        quantity: z.number().int().min(1).max(1000),
      }),
    )
    .min(1)
    .max(100),
  paymentMethod: z.enum(['card', 'cod', 'wallet']),
  provider: z.enum(['stripe', 'razorpay']).default('stripe'),
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/, 'an ISO 4217 code such as USD')
    .transform((c) => c.toUpperCase())
    .optional(),
});
export const orderParams = z.object({ id: z.string().uuid() });
const paymentMethods = { card: 'CARD', cod: 'COD', wallet: 'WALLET' } as const;
export const cancelBody = z.object({ reason: z.string().trim().min(1).max(500).optional() }).default({});
export const adminCancelBody = z.object({ reason: z.string().trim().min(1).max(500) });
export const shipBody = z.object({
  trackingNumber: z.string().trim().min(1).max(100),
  carrier: z.string().trim().min(1).max(100).optional(),
});
export const emptyBody = z.object({}).default({});
// An empty parameter (`?cursor=`) means none.
const blank = (v: unknown) => (v === '' ? undefined : v);
export const myOrdersQuery = z.object({
  customerId: z.preprocess(blank, z.string().uuid().optional()),
  limit: z.preprocess(blank, z.coerce.number().int().min(1).max(100).default(20)),
  cursor: z.preprocess(blank, cursorParam.optional()),
});
export const listQuery = z.object({
  status: z
    .enum(['PENDING', 'PAID', 'CONFIRMED', 'SHIPPED', 'DELIVERED', 'CANCELLED', 'REFUNDED', 'PARTIALLY_REFUNDED'])
    .optional(),
  customerId: z.string().uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const CHECKOUT_NAMESPACE = '0d6c3f4e-8a51-4c1b-9e3f-6b2d7a9c1e58';
/** Names the order a checkout with an Idempotency-Key makes, after the customer and the key. */
export const checkoutOrderId = (customerId: string, key: string) => idFromKey(CHECKOUT_NAMESPACE, customerId, key);
/** The memo entry that fingerprints the request a checkout's workflow was started for. */
const CHECKOUT_MEMO = 'checkoutRequest';
/**
 * Retry-After of a checkout that ran out of time: the workflow is busy (or its worker is being
 * replaced), and a retry sooner than this finds it no less busy.
 */
const CHECKOUT_RETRY_AFTER_SECONDS = 5;
// Before the checkout-refusal-kept patch, a refused checkout's view kept only its cancel reason, one of these.
const earlierCheckoutRefusals = new Set<string>([
  ErrorCode.INSUFFICIENT_STOCK,
  ErrorCode.INSUFFICIENT_WALLET_BALANCE,
  ErrorCode.WALLET_CURRENCY_MISMATCH,
  ErrorCode.PAYMENT_PROVIDER_UNAVAILABLE,
]);

/** What a finished checkout's workflow refused with: kept on its view, or (older workflows) its reason and timeline. */
function checkoutRefusalOf(view: OrderView): CheckoutRefusal | undefined {
  if (view.checkoutRefusal) return view.checkoutRefusal;
  const refused = view.timeline.find((t) => t.event === 'CHECKOUT_REFUSED' || t.event === 'CHECKOUT_FAILED');
  if (refused && view.cancelReason && earlierCheckoutRefusals.has(view.cancelReason))
    return { code: view.cancelReason as ErrorCode, message: refused.detail ?? view.cancelReason };
  return undefined;
}

function actorOf(user: AuthUser): Actor {
  return { id: user.id, role: user.role };
}

export function ordersRouter(deps: ApiDeps): Router {
  const { prisma, temporal, config } = deps;
  const router = Router();
  const auth = authenticate(deps);
  const admin = [auth, requireRole('ADMIN')];
  // Ship and deliver carry the API's seal: the workflow tells them from requests typed into Temporal.
  const sealing = { ...deps, seals: RequestSeals.fromConfig(config) };

  const handleOf = (orderId: string) => orderHandle(deps, orderId);

  /** 422 when the order this key named was made for another request body. */
  async function assertSameCheckout(orderId: string, fingerprint: string): Promise<void> {
    let made: unknown;
    try {
      made = (await handleOf(orderId).describe()).memo?.[CHECKOUT_MEMO];
    } catch {
      return; // no such order yet, or Temporal is unreachable: nothing to compare with
    }
    if (made !== undefined && made !== fingerprint) throw keyReused('checkout', { orderId });
  }

  /** A keyed checkout whose order's workflow has finished: its answer again (or its refusal). */
  async function placedEarlier(orderId: string): Promise<PlacedOrder> {
    const view: OrderView = await handleOf(orderId).result();
    const refused = checkoutRefusalOf(view);
    if (refused) throw new DomainError(refused.code, refused.message, refused.details);
    return {
      orderId: view.orderId,
      status: view.status,
      paymentStatus: view.paymentStatus,
      paymentMethod: view.paymentMethod,
      totalAmount: view.totalAmount,
      currency: view.currency,
      items: view.items,
      reservationExpiresAt: view.reservationExpiresAt,
      paymentProvider: view.paymentProvider,
      paymentIntentId: view.paymentIntentId,
      razorpayOrderId: view.razorpayOrderId,
    };
  }

  router.post('/api/checkout', auth, requireRole('CUSTOMER'), async (req, res) => {
    const body = parse(checkoutBody, req.body);
    const key = idempotencyKeyOf(req);
    const user = currentUser(req);
    if (body.paymentMethod === 'card') await assertPaymentsEnabled(prisma);
    const items = mergeLines(body.items);

    // A retried checkout (double click, a client retrying after a timeout) sends the same
    // Idempotency-Key: the key names the order, and so its workflow, which Temporal starts once.
    const orderId = key ? checkoutOrderId(user.id, key) : randomUUID();
    const fingerprint = requestFingerprint({ ...body, items });
    const input: OrderWorkflowInput = {
      orderId,
      customerId: user.id,
      items,
      paymentMethod: paymentMethods[body.paymentMethod],
      // Unstated, the currency is that of the first line's product (the placement prices it so).
      currency: body.currency,
      reservationTtlMs: config.RESERVATION_TTL,
      provider: body.provider === 'razorpay' ? 'RAZORPAY' : 'STRIPE',
      reconcileAfterMs: config.PAYMENT_RECONCILE_AFTER,
    };
    const start = new WithStartWorkflowOperation<typeof orderWorkflow>('orderWorkflow', {
      workflowId: orderWorkflowId(orderId),
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [input],
      // With a key, a second request joins the first one's workflow; never a second run of it.
      workflowIdConflictPolicy: key ? 'USE_EXISTING' : 'FAIL',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      memo: { [CHECKOUT_MEMO]: fingerprint },
      typedSearchAttributes: [
        { key: searchAttributes.orderId, value: orderId },
        { key: searchAttributes.customerId, value: user.id },
        { key: searchAttributes.orderStatus, value: 'PENDING' },
      ],
    });
    let placed: PlacedOrder;
    try {
      // Returns once the workflow has reserved the stock and opened the PaymentIntent.
      // One update per order, named by it: a retried checkout (a client retrying after a 503, a
      // double click) attaches to the first one's update, or gets its outcome, instead of queueing
      // another update (and another workflow task) on an order that is already busy.
      placed = await temporal.workflow.executeUpdateWithStart(placeOrderUpdate, {
        startWorkflowOperation: start,
        updateId: checkoutUpdateId(orderId),
      });
    } catch (error) {
      if (key) await assertSameCheckout(orderId, fingerprint);
      if (key && error instanceof WorkflowExecutionAlreadyStartedError) placed = await placedEarlier(orderId);
      else if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError || error instanceof ServiceError) {
        // The order may exist: say which, so the client can look instead of retrying blind.
        res.location(`/api/orders/${orderId}`);
        throw new DomainError(
          ErrorCode.TEMPORAL_UNAVAILABLE,
          `The checkout did not finish in time; order ${orderId} may have been placed: look before trying again`,
          { orderId, retryAfterSeconds: CHECKOUT_RETRY_AFTER_SECONDS },
        );
      } else throw error;
    }
    if (key) await assertSameCheckout(orderId, fingerprint);
    res.status(201).location(`/api/orders/${orderId}`).json(placed);
  });

  router.get('/api/orders/:id', auth, async (req, res) => {
    const user = currentUser(req);
    res.json(await orderView(deps, parse(orderParams, req.params).id, { id: user.id, role: user.role }));
  });

  router.get('/api/orders', auth, async (req, res) => {
    const query = parse(myOrdersQuery, req.query);
    const user = currentUser(req);
    if (user.role !== 'ADMIN' && query.customerId && query.customerId !== user.id)
      throw new DomainError(ErrorCode.FORBIDDEN, 'Customers list only their own orders');
    const customerId = user.role === 'ADMIN' ? query.customerId : user.id;
    const orders = await prisma.order.findMany({
      where: { customerId, ...after(query.cursor) },
      orderBy: newestFirst,
      take: query.limit + 1,
    });
    const page = orders.slice(0, query.limit);
    res.json({
      orders: page.map(orderSummary),
      nextCursor: orders.length > query.limit ? encodeCursor(page.at(-1)!) : null,
    });
  });

  router.post('/api/orders/:id/payments', auth, async (req, res) => {
    parse(emptyBody, req.body);
    const { id } = parse(orderParams, req.params);
    res.status(201).json(await retryPayment(deps, { orderId: id, actor: actorOf(currentUser(req)) }));
  });

  router.post('/api/orders/:id/cancel', auth, async (req, res) => {
    const user = currentUser(req);
    const { reason } = parse(user.role === 'ADMIN' ? adminCancelBody : cancelBody, req.body);
    const { id } = parse(orderParams, req.params);
    const view = await cancelOrder(deps, { orderId: id, actor: actorOf(user), reason });
    res.json(user.role === 'ADMIN' ? view : forCustomer(view));
  });

  router.get('/admin/orders', ...admin, async (req, res) => {
    const query = parse(listQuery, req.query);
    const orders = await prisma.order.findMany({
      where: { status: query.status, customerId: query.customerId },
      orderBy: { createdAt: 'desc' },
      take: query.limit,
    });
    res.json({ orders: orders.map(orderSummary) });
  });

  router.post('/admin/orders/:id/ship', ...admin, async (req, res) => {
    const body = parse(shipBody, req.body);
    const { id } = parse(orderParams, req.params);
    res.json(await shipOrder(sealing, { orderId: id, actor: actorOf(currentUser(req)), ...body }));
  });

  router.post('/admin/orders/:id/deliver', ...admin, async (req, res) => {
    parse(emptyBody, req.body);
    const { id } = parse(orderParams, req.params);
    res.json(await deliverOrder(sealing, { orderId: id, actor: actorOf(currentUser(req)) }));
  });

  router.post('/admin/orders/:id/cancel', ...admin, async (req, res) => {
    const { reason } = parse(adminCancelBody, req.body);
    const { id } = parse(orderParams, req.params);
    res.json(await cancelOrder(deps, { orderId: id, actor: actorOf(currentUser(req)), reason }));
  });

  return router;
}
