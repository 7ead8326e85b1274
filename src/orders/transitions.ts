/**
 * An order's transitions after checkout, one implementation each for the admin API, the
 * customer's API and the ops CLI (the runbook's "Updating Order Status" and "Cancelling Order",
 * which were UPDATEs by hand): each is an update of the order's workflow, refused here first,
 * without asking Temporal, when the stored order is finished; an admin's transition is audited
 * with the status before and after.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { Order } from '../generated/prisma/client';
import { audit } from '../access/audit';
import type { RequestSeals } from '../access/request-seals';
import { DomainError } from '../platform/errors';
import type { OperationsDeps } from '../platform/temporal';
import { assertPaymentsEnabled } from '../payments/switch';
import { orderWorkflowId } from '../workflows/ids';
import {
  cancelOrderUpdate,
  deliverOrderUpdate,
  retryPaymentUpdate,
  shipOrderUpdate,
  type OrderView,
} from '../workflows/order/messages';
import type { orderWorkflow } from '../workflows/order/workflow';
import { ErrorCode, type Actor } from '../workflows/vocabulary';
import { closedStatuses, visibleTo } from './view';

type Deps = Omit<OperationsDeps, 'config'>;

export const orderHandle = (deps: Pick<Deps, 'temporal'>, orderId: string): WorkflowHandle<typeof orderWorkflow> =>
  deps.temporal.workflow.getHandle(orderWorkflowId(orderId));

/** The order `actor` may see: ORDER_NOT_FOUND when unknown, FORBIDDEN when it is another customer's. */
export async function orderFor(prisma: Deps['prisma'], orderId: string, actor: Actor): Promise<Order> {
  return visibleTo(await prisma.order.findUnique({ where: { id: orderId } }), orderId, actor);
}

/** A transition on a finished order is refused with its status (409 INVALID_ORDER_STATE). */
export function assertOpen(order: Pick<Order, 'status' | 'paymentStatus'>): void {
  if (closedStatuses.has(order.status)) {
    throw new DomainError(ErrorCode.INVALID_ORDER_STATE, `Order is ${order.status}`, {
      status: order.status,
      paymentStatus: order.paymentStatus,
    });
  }
}

/** Records an admin's transition in the audit log, with the status before and after; a customer's is in the history. */
async function audited(
  deps: Deps,
  order: Order,
  actor: Actor,
  action: string,
  view: OrderView,
  reason?: string,
): Promise<OrderView> {
  if (actor.role !== 'ADMIN') return view;
  await audit(deps.prisma, {
    actorId: actor.id,
    action,
    targetType: 'order',
    targetId: order.id,
    reason,
    before: { status: order.status, paymentStatus: order.paymentStatus },
    after: { status: view.status, paymentStatus: view.paymentStatus },
  });
  return view;
}

async function openOrder(deps: Deps, orderId: string, actor: Actor): Promise<Order> {
  const order = await orderFor(deps.prisma, orderId, actor);
  assertOpen(order);
  return order;
}

/**
 * Ship and deliver carry the sender's seal (src/access/request-seals.ts), so the workflow tells
 * them from requests typed into Temporal; whoever sends them holds the master key.
 */
type SealingDeps = Deps & { seals: RequestSeals };

/** An admin ships the order with its tracking number. */
export async function shipOrder(
  deps: SealingDeps,
  input: { orderId: string; actor: Actor; trackingNumber: string; carrier?: string },
): Promise<OrderView> {
  const order = await openOrder(deps, input.orderId, input.actor);
  const { actor, trackingNumber, carrier } = input;
  const request = { actor, trackingNumber, ...(carrier === undefined ? {} : { carrier }) };
  const apiSeal = deps.seals.seal(orderWorkflowId(order.id), shipOrderUpdate.name, request);
  const view = await orderHandle(deps, order.id).executeUpdate(shipOrderUpdate, { args: [{ ...request, apiSeal }] });
  return audited(deps, order, actor, 'ORDER_SHIPPED', view, `tracking ${trackingNumber}`);
}

/** An admin records the delivery (a cash-on-delivery order is paid then). */
export async function deliverOrder(deps: SealingDeps, input: { orderId: string; actor: Actor }): Promise<OrderView> {
  const order = await openOrder(deps, input.orderId, input.actor);
  const request = { actor: input.actor };
  const apiSeal = deps.seals.seal(orderWorkflowId(order.id), deliverOrderUpdate.name, request);
  const view = await orderHandle(deps, order.id).executeUpdate(deliverOrderUpdate, { args: [{ ...request, apiSeal }] });
  return audited(deps, order, input.actor, 'ORDER_DELIVERED', view);
}

/** The customer (before payment) or an admin (with a reason) cancels the order; the workflow says which it allows. */
export async function cancelOrder(
  deps: Deps,
  input: { orderId: string; actor: Actor; reason?: string },
): Promise<OrderView> {
  const order = await openOrder(deps, input.orderId, input.actor);
  const view = await orderHandle(deps, order.id).executeUpdate(cancelOrderUpdate, {
    args: [{ actor: input.actor, reason: input.reason }],
  });
  return audited(deps, order, input.actor, 'ORDER_CANCELLED', view, input.reason);
}

/** The customer who placed the order pays for it again (a new payment attempt), while payments are on. */
export async function retryPayment(deps: Deps, input: { orderId: string; actor: Actor }) {
  const order = await orderFor(deps.prisma, input.orderId, input.actor);
  if (order.customerId !== input.actor.id)
    throw new DomainError(ErrorCode.FORBIDDEN, 'Only the customer who placed the order may pay for it');
  assertOpen(order);
  await assertPaymentsEnabled(deps.prisma);
  return orderHandle(deps, order.id).executeUpdate(retryPaymentUpdate, { args: [{ actor: input.actor }] });
}
