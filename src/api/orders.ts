import {
  ServiceError,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Order } from '../generated/prisma/client';
import {
  placeOrderUpdate,
  type OrderView,
  type OrderWorkflowInput,
  type PlacedOrder,
} from '../workflows/order/messages';
import { ErrorCode, type Actor } from '../workflows/vocabulary';
import type { orderWorkflow } from '../workflows/order/workflow';
import { searchAttributes } from '../workflows/search-attributes';
import { orderWorkflowId } from '../workflows/ids';
import { RequestSeals } from '../access/request-seals';
import { assertPaymentsEnabled } from '../payments/switch';
import { mergeLines } from '../inventory/variants';
import { priceCheckout } from '../orders/checkout';
import { authenticate, currentUser, requireRole, type AuthUser } from './auth';
import type { ApiDeps } from './deps';
import { DomainError } from '../platform/errors';
import { parse } from './errors';
import { after, cursorParam, encodeCursor, newestFirst } from './paging';
import { forCustomer, orderSummary, orderView } from '../orders/view';
import { cancelOrder, deliverOrder, orderFor, orderHandle, retryPayment, shipOrder } from '../orders/transitions';
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
// A checkout the workflow refused ends the order at once, CANCELLED with one of these reasons.
/** The memo entry that fingerprints the request a checkout's workflow was started for. */
const CHECKOUT_MEMO = 'checkoutRequest';
const checkoutRefusals = new Set<ErrorCode>([
  ErrorCode.INSUFFICIENT_STOCK,
  ErrorCode.INSUFFICIENT_WALLET_BALANCE,
  ErrorCode.WALLET_CURRENCY_MISMATCH,
  ErrorCode.PAYMENT_PROVIDER_UNAVAILABLE,
]);

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

  /** Loads the order for the signed-in user: 404 when unknown, 403 when it belongs to someone else. */
  const loadOrder = (req: Request): Promise<Order> =>
    orderFor(prisma, parse(orderParams, req.params).id, actorOf(currentUser(req)));

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
    const refused = view.timeline.find((t) => t.event === 'CHECKOUT_REFUSED' || t.event === 'CHECKOUT_FAILED');
    if (refused && view.cancelReason && checkoutRefusals.has(view.cancelReason as ErrorCode))
      throw new DomainError(view.cancelReason as ErrorCode, refused.detail ?? view.cancelReason);
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
      razorpayOrderId: view.razorpayOrderId,
    };
  }

  router.post('/api/checkout', auth, requireRole('CUSTOMER'), async (req, res) => {
    const body = parse(checkoutBody, req.body);
    const key = idempotencyKeyOf(req);
    const user = currentUser(req);
    if (body.paymentMethod === 'card') await assertPaymentsEnabled(prisma);
    const items = mergeLines(body.items);

    // Refused here, before any workflow starts; the order's activity prices it again as it reserves.
    const { currency } = await priceCheckout(prisma, items, body.currency);

    // A retried checkout (double click, a client retrying after a timeout) sends the same
    // Idempotency-Key: the key names the order, and so its workflow, which Temporal starts once.
    const orderId = key ? checkoutOrderId(user.id, key) : randomUUID();
    const fingerprint = requestFingerprint({ ...body, items });
    const input: OrderWorkflowInput = {
      orderId,
      customerId: user.id,
      items,
      paymentMethod: paymentMethods[body.paymentMethod],
      currency,
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
      placed = await temporal.workflow.executeUpdateWithStart(placeOrderUpdate, { startWorkflowOperation: start });
    } catch (error) {
      if (key) await assertSameCheckout(orderId, fingerprint);
      if (key && error instanceof WorkflowExecutionAlreadyStartedError) placed = await placedEarlier(orderId);
      else if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError || error instanceof ServiceError) {
        // The order may exist: say which, so the client can look instead of retrying blind.
        res.location(`/api/orders/${orderId}`);
        throw new DomainError(
          ErrorCode.TEMPORAL_UNAVAILABLE,
          `The checkout did not finish in time; order ${orderId} may have been placed: look before trying again`,
          { orderId },
        );
      } else throw error;
    }
    if (key) await assertSameCheckout(orderId, fingerprint);
    res.status(201).location(`/api/orders/${orderId}`).json(placed);
  });

  router.get('/api/orders/:id', auth, async (req, res) => {
    const user = currentUser(req);
    res.json(await orderView(deps, await loadOrder(req), { id: user.id, role: user.role }));
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
