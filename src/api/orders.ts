import {
  ServiceError,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type WorkflowHandle,
} from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Order } from '../generated/prisma/client';
import {
  cancelOrderUpdate,
  deliverOrderUpdate,
  placeOrderUpdate,
  retryPaymentUpdate,
  shipOrderUpdate,
  type OrderView,
  type OrderWorkflowInput,
  type PlacedOrder,
} from '../workflows/order/messages';
import { ErrorCode, type Actor } from '../workflows/vocabulary';
import type { orderWorkflow } from '../workflows/order/workflow';
import { searchAttributes } from '../workflows/search-attributes';
import { orderWorkflowId } from '../workflows/ids';
import { audit } from '../access/audit';
import { RequestSeals } from '../access/request-seals';
import { MAX_ORDER_TOTAL } from '../platform/money';
import { paymentsSwitch } from '../payments/switch';
import { mergeLines, unitPrices } from '../inventory/variants';
import { authenticate, currentUser, requireRole, type AuthUser } from './auth';
import type { ApiDeps } from './deps';
import { DomainError } from '../platform/errors';
import { parse } from './errors';
import { after, cursorParam, encodeCursor, newestFirst } from './paging';
import { closedStatuses, forCustomer, orderSummary, orderView } from '../orders/view';
import { idempotencyKeyOf, idFromKey, keyReused, requestFingerprint } from './idempotency';

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
  const seals = RequestSeals.fromConfig(config);

  const handleOf = (orderId: string): WorkflowHandle<typeof orderWorkflow> =>
    temporal.workflow.getHandle(orderWorkflowId(orderId));

  /** Loads the order for `user`: 404 when unknown, 403 when it belongs to someone else. */
  async function loadOrder(req: Request): Promise<Order> {
    const { id } = parse(orderParams, req.params);
    const user = currentUser(req);
    const order = await prisma.order.findUnique({ where: { id } });
    if (!order) throw new DomainError(ErrorCode.ORDER_NOT_FOUND, `No order ${id}`);
    if (user.role !== 'ADMIN' && order.customerId !== user.id)
      throw new DomainError(ErrorCode.FORBIDDEN, 'This order belongs to another customer');
    return order;
  }

  /** While an operator has switched payments off, nothing new is charged. */
  async function assertPaymentsEnabled(): Promise<void> {
    const payments = await paymentsSwitch(prisma);
    if (!payments.enabled) {
      throw new DomainError(ErrorCode.PAYMENTS_DISABLED, `Payments are switched off: ${payments.reason}`, {
        reason: payments.reason,
        since: payments.updatedAt,
      });
    }
  }

  /** A transition on a finished order is refused here, with its status, without asking Temporal. */
  function assertOpen(order: Order): void {
    if (closedStatuses.has(order.status)) {
      throw new DomainError(ErrorCode.INVALID_ORDER_STATE, `Order is ${order.status}`, {
        status: order.status,
        paymentStatus: order.paymentStatus,
      });
    }
  }

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
    if (body.paymentMethod === 'card') await assertPaymentsEnabled();
    const items = mergeLines(body.items);

    const products = await prisma.product.findMany({
      where: { id: { in: items.map((i) => i.productId) } },
      select: { id: true, sku: true, currency: true, price: true },
    });
    const unknown = items.filter((i) => !products.some((p) => p.id === i.productId)).map((i) => i.productId);
    if (unknown.length > 0)
      throw new DomainError(ErrorCode.PRODUCT_NOT_FOUND, `Unknown products: ${unknown.join(', ')}`, {
        productIds: unknown,
      });
    // The order is priced in the currency asked for, else in that of the first item listed.
    const currency = body.currency ?? products.find((p) => p.id === items[0].productId)!.currency;
    const foreign = products.filter((p) => p.currency !== currency);
    if (foreign.length > 0) {
      throw new DomainError(
        ErrorCode.CURRENCY_MISMATCH,
        `Not priced in ${currency}: ${foreign.map((p) => p.sku).join(', ')}`,
        { currency, skus: foreign.map((p) => p.sku) },
      );
    }

    const prices = await unitPrices(prisma, items);
    const total = items.reduce((sum, item, index) => sum + prices[index] * item.quantity, 0);
    if (total > MAX_ORDER_TOTAL) {
      throw new DomainError(
        ErrorCode.ORDER_TOTAL_TOO_LARGE,
        `The order total ${total} is above the largest charge, ${MAX_ORDER_TOTAL}`,
        { total, max: MAX_ORDER_TOTAL },
      );
    }

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
    const order = await loadOrder(req);
    if (order.customerId !== currentUser(req).id)
      throw new DomainError(ErrorCode.FORBIDDEN, 'Only the customer who placed the order may pay for it');
    assertOpen(order);
    await assertPaymentsEnabled();
    const result = await handleOf(order.id).executeUpdate(retryPaymentUpdate, {
      args: [{ actor: actorOf(currentUser(req)) }],
    });
    res.status(201).json(result);
  });

  router.post('/api/orders/:id/cancel', auth, async (req, res) => {
    const user = currentUser(req);
    const { reason } = parse(user.role === 'ADMIN' ? adminCancelBody : cancelBody, req.body);
    const order = await loadOrder(req);
    assertOpen(order);
    const view: OrderView = await handleOf(order.id).executeUpdate(cancelOrderUpdate, {
      args: [{ actor: actorOf(user), reason }],
    });
    res.json(user.role === 'ADMIN' ? await audited(req, order, 'ORDER_CANCELLED', view, reason) : forCustomer(view));
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

  /** Records an admin's transition of an order in the audit log, with the status before and after. */
  async function audited(
    req: Request,
    order: Order,
    action: string,
    view: OrderView,
    reason?: string,
  ): Promise<OrderView> {
    await audit(prisma, {
      actorId: currentUser(req).id,
      action,
      targetType: 'order',
      targetId: order.id,
      reason,
      before: { status: order.status, paymentStatus: order.paymentStatus },
      after: { status: view.status, paymentStatus: view.paymentStatus },
    });
    return view;
  }

  router.post('/admin/orders/:id/ship', ...admin, async (req, res) => {
    const body = parse(shipBody, req.body);
    const order = await loadOrder(req);
    assertOpen(order);
    const request = { actor: actorOf(currentUser(req)), ...body };
    const view = await handleOf(order.id).executeUpdate(shipOrderUpdate, {
      args: [{ ...request, apiSeal: seals.seal(orderWorkflowId(order.id), shipOrderUpdate.name, request) }],
    });
    res.json(await audited(req, order, 'ORDER_SHIPPED', view, `tracking ${body.trackingNumber}`));
  });

  router.post('/admin/orders/:id/deliver', ...admin, async (req, res) => {
    parse(emptyBody, req.body);
    const order = await loadOrder(req);
    assertOpen(order);
    const request = { actor: actorOf(currentUser(req)) };
    const view = await handleOf(order.id).executeUpdate(deliverOrderUpdate, {
      args: [{ ...request, apiSeal: seals.seal(orderWorkflowId(order.id), deliverOrderUpdate.name, request) }],
    });
    res.json(await audited(req, order, 'ORDER_DELIVERED', view));
  });

  router.post('/admin/orders/:id/cancel', ...admin, async (req, res) => {
    const { reason } = parse(adminCancelBody, req.body);
    const order = await loadOrder(req);
    assertOpen(order);
    const view = await handleOf(order.id).executeUpdate(cancelOrderUpdate, {
      args: [{ actor: actorOf(currentUser(req)), reason }],
    });
    res.json(await audited(req, order, 'ORDER_CANCELLED', view, reason));
  });

  return router;
}
