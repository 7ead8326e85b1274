/**
 * One workflow per return (`return-<returnId>`). It replaces "the customer emails support, the
 * warehouse tells someone the parcel came, someone restocks it and refunds by hand":
 *
 *   record the request (refused with a code when the units cannot be returned) -> wait for the
 *   goods until RETURN_RECEIVE_WITHIN -> an admin receives them (each line RESTOCK or DAMAGED,
 *   perhaps fewer than asked) or rejects the return -> resellable units back to stock -> the
 *   received lines refunded by a child refund workflow, under the refund rules -> the customer
 *   is told at every step.
 *
 * Receipts and rejections are updates: the first valid one wins, later ones are refused.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  ParentClosePolicy,
  setCurrentDetails,
  setHandler,
  startChild,
  uuid4,
} from '@temporalio/workflow';
import { activitiesFor } from '../policies';
import { businessFailure, refusal } from '../failures';
import { refundWorkflowId } from '../ids';
import type { refundWorkflow } from '../refund/workflow';
import { ErrorCode, SYSTEM, type Actor } from '../vocabulary';
import {
  getReturnQuery,
  receiveReturnUpdate,
  rejectReturnUpdate,
  requestReturnUpdate,
  type ReturnReceipt,
  type ReturnRejection,
  type ReturnView,
  type ReturnWorkflowInput,
} from './messages';

const act = activitiesFor('openReturn', 'receiveReturn', 'closeWaitingReturn', 'recordReturnRefund', 'sendReturnEmail');

type Action = { id: number } & (
  { kind: 'receive'; receipt: ReturnReceipt } | { kind: 'reject'; rejection: ReturnRejection }
);

export async function returnWorkflow(input: ReturnWorkflowInput): Promise<ReturnView> {
  const customer: Actor = { id: input.customerId, role: 'CUSTOMER' };
  const view: ReturnView = {
    returnId: input.returnId,
    orderId: input.orderId,
    status: 'REQUESTED',
    reason: input.reason,
    lines: input.lines.map((l) => ({ ...l })),
    timeline: [],
    requestedBy: customer,
  };
  let opened: { failure?: ApplicationFailure } | undefined;
  const actions: Action[] = [];
  const verdicts = new Map<number, ApplicationFailure | 'ACCEPTED'>();
  let nextActionId = 0;
  let settled = false; // an action was accepted (or the return expired): no other may be

  setHandler(getReturnQuery, () => view, { description: 'The return: lines, status, refund, and its timeline.' });
  setHandler(
    requestReturnUpdate,
    async () => {
      await condition(() => opened !== undefined);
      if (opened?.failure) throw opened.failure;
      return view;
    },
    { description: 'Records the request (sent with update-with-start).' },
  );

  async function takeAction(action: Action): Promise<ReturnView> {
    actions.push(action);
    // Answers once the receipt is recorded and its refund has started (or the rejection is recorded).
    await condition(
      () => verdicts.has(action.id) && (verdicts.get(action.id) !== 'ACCEPTED' || view.status !== 'REQUESTED'),
    );
    const verdict = verdicts.get(action.id);
    if (verdict !== 'ACCEPTED') throw verdict;
    if (action.kind === 'receive') await condition(() => view.refundId !== undefined || view.status !== 'RECEIVED');
    return view;
  }
  setHandler(receiveReturnUpdate, (receipt) => takeAction({ id: nextActionId++, kind: 'receive', receipt }), {
    validator: validateReceipt,
    description:
      'The goods arrived: {"adminId", "lines": [{"productId", "quantity", "condition": "RESTOCK"|"DAMAGED"}], "refundShipping"?, "note"?}.',
  });
  setHandler(rejectReturnUpdate, (rejection) => takeAction({ id: nextActionId++, kind: 'reject', rejection }), {
    validator: validateRejection,
    description: 'Reject the return: {"adminId", "reason"}.',
  });

  function assertWaiting(): void {
    if (!opened || opened.failure || settled || view.status !== 'REQUESTED')
      throw refusal(ErrorCode.INVALID_RETURN_STATE, `The return is ${view.status}`, { status: view.status });
  }
  function validateReceipt(receipt: ReturnReceipt): void {
    if (!receipt?.adminId || !Array.isArray(receipt.lines) || receipt.lines.length === 0)
      throw refusal(ErrorCode.VALIDATION_ERROR, 'adminId and at least one line are required');
    assertWaiting();
    const totals = new Map<string, number>();
    for (const line of receipt.lines) {
      if (!Number.isInteger(line.quantity) || line.quantity < 1 || !['RESTOCK', 'DAMAGED'].includes(line.condition))
        throw refusal(
          ErrorCode.VALIDATION_ERROR,
          'each line needs a positive quantity and condition RESTOCK or DAMAGED',
        );
      totals.set(line.productId, (totals.get(line.productId) ?? 0) + line.quantity);
    }
    for (const [productId, quantity] of totals) {
      const asked = input.lines.find((l) => l.productId === productId)?.quantity;
      if (asked === undefined)
        throw refusal(ErrorCode.VALIDATION_ERROR, `Product ${productId} is not part of this return`, { productId });
      if (quantity > asked)
        throw refusal(ErrorCode.RETURN_QUANTITY_TOO_HIGH, `Only ${asked} of ${productId} were asked to be returned`, {
          productId,
          asked,
          received: quantity,
        });
    }
  }
  function validateRejection(rejection: ReturnRejection): void {
    if (!rejection?.adminId || !rejection.reason?.trim())
      throw refusal(ErrorCode.VALIDATION_ERROR, 'adminId and reason are required');
    assertWaiting();
  }

  function record(event: string, actor: Actor, detail?: string): void {
    view.timeline.push({ at: new Date().toISOString(), event, actor, detail });
    setCurrentDetails(describe(view));
  }

  async function finish(): Promise<ReturnView> {
    settled = true;
    for (let late = actions.shift(); late; late = actions.shift())
      verdicts.set(late.id, refusal(ErrorCode.INVALID_RETURN_STATE, `The return is ${view.status}`));
    await condition(allHandlersFinished);
    return view;
  }

  // 1. Record the request, or refuse it with the reason.
  try {
    const request = await act.openReturn({
      returnId: input.returnId,
      orderId: input.orderId,
      customerId: input.customerId,
      lines: input.lines,
      reason: input.reason,
      returnWindowMs: input.returnWindowMs,
      receiveWithinMs: input.receiveWithinMs,
    });
    view.currency = request.currency;
    view.expiresAt = request.expiresAt;
    record(
      'RETURN_REQUESTED',
      customer,
      `${input.lines.map((l) => `${l.quantity} x ${l.productId}`).join(', ')}: ${input.reason}`,
    );
    opened = {};
  } catch (error) {
    const refused = businessFailure(error);
    opened = { failure: refused };
    view.status = 'REFUSED';
    view.failureReason = refused.message;
    view.failureCode = refused.type ?? undefined;
    view.failureDetails = refused.details?.[0];
    record('RETURN_REFUSED', SYSTEM, refused.message);
    return finish();
  }
  await act.sendReturnEmail({ returnId: input.returnId, kind: 'RETURN_REQUESTED' });

  // 2. Wait for the goods (or a rejection) until the return expires; refused actions keep it waiting.
  const deadline = Date.parse(view.expiresAt);
  let accepted: Action | undefined;
  while (!accepted) {
    const arrived = await condition(() => actions.length > 0, Math.max(deadline - Date.now(), 1));
    if (!arrived) break;
    const action = actions.shift()!;
    try {
      if (action.kind === 'reject') {
        const { adminId, reason } = action.rejection;
        await act.closeWaitingReturn({ returnId: input.returnId, status: 'REJECTED', actorId: adminId, reason });
        view.status = 'REJECTED';
        record('RETURN_REJECTED', { id: adminId, role: 'ADMIN' }, reason);
      } else {
        const { adminId, lines, refundShipping, note } = action.receipt;
        const received = await act.receiveReturn({ returnId: input.returnId, adminId, lines, refundShipping, note });
        for (const line of view.lines)
          Object.assign(
            line,
            received.lines.find((l) => l.productId === line.productId),
          );
        view.status = 'RECEIVED';
        view.receivedBy = adminId;
        view.refundAmount = received.amount;
        record(
          'RETURN_RECEIVED',
          { id: adminId, role: 'ADMIN' },
          received.lines.map((l) => `${l.productId}: ${l.restocked} restocked, ${l.damaged} damaged`).join('; '),
        );
      }
      accepted = action;
      verdicts.set(action.id, 'ACCEPTED');
    } catch (error) {
      verdicts.set(action.id, businessFailure(error));
    }
  }
  settled = true;

  if (!accepted) {
    await act.closeWaitingReturn({
      returnId: input.returnId,
      status: 'EXPIRED',
      reason: 'the goods did not arrive in time',
    });
    view.status = 'EXPIRED';
    record('RETURN_EXPIRED', SYSTEM, `nothing received by ${view.expiresAt}`);
    await act.sendReturnEmail({ returnId: input.returnId, kind: 'RETURN_EXPIRED' });
    return finish();
  }
  if (view.status === 'REJECTED') {
    await act.sendReturnEmail({ returnId: input.returnId, kind: 'RETURN_REJECTED' });
    return finish();
  }
  await act.sendReturnEmail({ returnId: input.returnId, kind: 'RETURN_RECEIVED' });

  // 3. Refund the received lines through the refund workflow: one destination, once, partial.
  const receipt = (accepted as Extract<Action, { kind: 'receive' }>).receipt;
  const refundId = uuid4();
  const child = await startChild<typeof refundWorkflow>('refundWorkflow', {
    workflowId: refundWorkflowId(refundId),
    parentClosePolicy: ParentClosePolicy.ABANDON, // money in motion finishes even if this return is terminated
    args: [
      {
        refundId,
        orderId: input.orderId,
        amount: view.refundAmount,
        reason: `Return ${input.returnId}: ${input.reason}`,
        requestedBy: customer,
        approvedBy: { id: receipt.adminId, role: 'ADMIN' },
        returnId: input.returnId,
        autoApproveTrusted: false,
        reminderAfterMs: input.refundReminderAfterMs,
        settleCheckAfterMs: input.refundSettleCheckAfterMs,
      },
    ],
  });
  view.refundId = refundId;
  record('REFUND_STARTED', SYSTEM, refundWorkflowId(refundId));
  const refund = await child.result();
  view.refundStatus = refund.status;
  const ok = refund.status === 'COMPLETED';
  const detail = ok
    ? `${refund.amount} ${refund.currency} to ${refund.destination}`
    : (refund.failureReason ?? `the refund ended ${refund.status}`);
  await act.recordReturnRefund({
    returnId: input.returnId,
    refundId: refund.status === 'REFUSED' ? undefined : refundId,
    amount: ok ? refund.amount! : 0,
    status: ok ? 'REFUNDED' : 'REFUND_FAILED',
    detail,
  });
  view.status = ok ? 'REFUNDED' : 'REFUND_FAILED';
  view.refundAmount = ok ? refund.amount : 0;
  if (!ok) view.failureReason = detail;
  record(ok ? 'RETURN_REFUNDED' : 'RETURN_REFUND_FAILED', SYSTEM, detail);
  await act.sendReturnEmail({ returnId: input.returnId, kind: ok ? 'RETURN_REFUNDED' : 'RETURN_REFUND_FAILED' });
  return finish();
}

function describe(view: ReturnView): string {
  if (view.status === 'REQUESTED')
    return (
      `Waiting for the goods until ${view.expiresAt}. Receive them with POST /admin/returns/${view.returnId}/receive ` +
      `or reject the return with POST /admin/returns/${view.returnId}/reject.`
    );
  return `${view.status}${view.refundId ? ` (refund ${view.refundId})` : ''}.`;
}
