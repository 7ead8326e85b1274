/**
 * The return workflow's query and updates. Receipts and rejections are queued for the main flow,
 * which takes the first valid one and refuses the rest; each update answers its own verdict.
 */
import { condition, setHandler } from '@temporalio/workflow';
import { refusal } from '../failures';
import { awaitVerdict } from '../verdicts';
import { ErrorCode } from '../vocabulary';
import { assertReceiptComplete, assertReceiptLines, assertRejectionComplete } from './guards';
import {
  getReturnQuery,
  receiveReturnUpdate,
  rejectReturnUpdate,
  requestReturnUpdate,
  type ReturnView,
} from './messages';
import type { Action, ReturnState } from './state';

export function registerHandlers(s: ReturnState): void {
  const { input, view } = s;

  setHandler(getReturnQuery, () => view, { description: 'The return: lines, status, refund, and its timeline.' });
  setHandler(
    requestReturnUpdate,
    async () => {
      await condition(() => s.opened !== undefined);
      if (s.opened?.failure) throw s.opened.failure;
      return view;
    },
    { description: 'Records the request (sent with update-with-start).' },
  );

  async function takeAction(action: Action): Promise<ReturnView> {
    s.actions.push(action);
    // Answers once the receipt is recorded and its refund has started (or the rejection is recorded).
    await awaitVerdict(s.verdicts, action.id, () => view.status !== 'REQUESTED');
    if (action.kind === 'receive') await condition(() => view.refundId !== undefined || view.status !== 'RECEIVED');
    return view;
  }
  function assertWaiting(): void {
    if (!s.opened || s.opened.failure || s.settled || view.status !== 'REQUESTED')
      throw refusal(ErrorCode.INVALID_RETURN_STATE, `The return is ${view.status}`, { status: view.status });
  }
  setHandler(receiveReturnUpdate, (receipt) => takeAction({ id: s.nextActionId++, kind: 'receive', receipt }), {
    validator: (receipt) => {
      assertReceiptComplete(receipt);
      assertWaiting();
      assertReceiptLines(receipt, input.lines);
    },
    description:
      'The goods arrived: {"adminId", "lines": [{"productId", "quantity", "condition": "RESTOCK"|"DAMAGED"}], "refundShipping"?, "note"?}.',
  });
  setHandler(rejectReturnUpdate, (rejection) => takeAction({ id: s.nextActionId++, kind: 'reject', rejection }), {
    validator: (rejection) => {
      assertRejectionComplete(rejection);
      assertWaiting();
    },
    description: 'Reject the return: {"adminId", "reason"}.',
  });
}
