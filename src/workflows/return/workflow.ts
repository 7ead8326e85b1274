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
import { allHandlersFinished, condition, ParentClosePolicy, startChild, uuid4 } from '@temporalio/workflow';
import { businessFailure, markRefused, refusal } from '../failures';
import { refundWorkflowId } from '../ids';
import { activitiesFor } from '../policies';
import type { refundWorkflow } from '../refund/workflow';
import { ErrorCode, SYSTEM } from '../vocabulary';
import { registerHandlers } from './handlers';
import type { ReturnReceipt, ReturnView, ReturnWorkflowInput } from './messages';
import { newReturnState, record, type Action, type ReturnState } from './state';

const act = activitiesFor('openReturn', 'receiveReturn', 'closeWaitingReturn', 'recordReturnRefund', 'sendReturnEmail');

export async function returnWorkflow(input: ReturnWorkflowInput): Promise<ReturnView> {
  const s = newReturnState(input);
  registerHandlers(s);

  // 1. Record the request, or refuse it with the reason.
  if (!(await recordRequest(s))) return finish(s);
  await act.sendReturnEmail({ returnId: input.returnId, kind: 'RETURN_REQUESTED' });

  // 2. Wait for the goods (or a rejection) until the return expires; refused actions keep it waiting.
  const accepted = await awaitGoods(s);
  if (!accepted) {
    await expire(s);
    return finish(s);
  }
  if (accepted.kind === 'reject') {
    await act.sendReturnEmail({ returnId: input.returnId, kind: 'RETURN_REJECTED' });
    return finish(s);
  }
  await act.sendReturnEmail({ returnId: input.returnId, kind: 'RETURN_RECEIVED' });

  // 3. Refund the received lines through the refund workflow: one destination, once, partial.
  await refundReceived(s, accepted.receipt);
  return finish(s);
}

// ---- The phases ----------------------------------------------------------------------------------

/** Opens the return's record; false (the return REFUSED, with the reason) when the units cannot be returned. */
async function recordRequest(s: ReturnState): Promise<boolean> {
  const { input, view } = s;
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
      s,
      'RETURN_REQUESTED',
      s.customer,
      `${input.lines.map((l) => `${l.quantity} x ${l.productId}`).join(', ')}: ${input.reason}`,
    );
    s.opened = {};
    return true;
  } catch (error) {
    const refused = businessFailure(error);
    s.opened = { failure: refused };
    markRefused(view, refused);
    record(s, 'RETURN_REFUSED', SYSTEM, refused.message);
    return false;
  }
}

/** Takes the first receipt or rejection the database accepts before the deadline; undefined when none came. */
async function awaitGoods(s: ReturnState): Promise<Action | undefined> {
  const { input, view, actions, verdicts } = s;
  const deadline = Date.parse(view.expiresAt!);
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
        record(s, 'RETURN_REJECTED', { id: adminId, role: 'ADMIN' }, reason);
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
          s,
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
  s.settled = true;
  return accepted;
}

/** Nothing came in time: the return is closed EXPIRED and the customer told. */
async function expire(s: ReturnState): Promise<void> {
  const { input, view } = s;
  await act.closeWaitingReturn({
    returnId: input.returnId,
    status: 'EXPIRED',
    reason: 'the goods did not arrive in time',
  });
  view.status = 'EXPIRED';
  record(s, 'RETURN_EXPIRED', SYSTEM, `nothing received by ${view.expiresAt}`);
  await act.sendReturnEmail({ returnId: input.returnId, kind: 'RETURN_EXPIRED' });
}

/** Refunds the received lines by a child refund workflow (approved by the receiving admin) and records how it ended. */
async function refundReceived(s: ReturnState, receipt: ReturnReceipt): Promise<void> {
  const { input, view } = s;
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
        requestedBy: s.customer,
        approvedBy: { id: receipt.adminId, role: 'ADMIN' },
        returnId: input.returnId,
        autoApproveTrusted: false,
        reminderAfterMs: input.refundReminderAfterMs,
        settleCheckAfterMs: input.refundSettleCheckAfterMs,
      },
    ],
  });
  view.refundId = refundId;
  record(s, 'REFUND_STARTED', SYSTEM, refundWorkflowId(refundId));
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
  record(s, ok ? 'RETURN_REFUNDED' : 'RETURN_REFUND_FAILED', SYSTEM, detail);
  await act.sendReturnEmail({ returnId: input.returnId, kind: ok ? 'RETURN_REFUNDED' : 'RETURN_REFUND_FAILED' });
}

/** Refuses every action still queued, lets the handlers finish, and returns the return. */
async function finish(s: ReturnState): Promise<ReturnView> {
  s.settled = true;
  for (let late = s.actions.shift(); late; late = s.actions.shift())
    s.verdicts.set(late.id, refusal(ErrorCode.INVALID_RETURN_STATE, `The return is ${s.view.status}`));
  await condition(allHandlersFinished);
  return s.view;
}
