/**
 * What one return's workflow holds between its steps, in one object: the return's view, the
 * receipts and rejections its updates queued, and the verdict each update waits for.
 */
import { ApplicationFailure, setCurrentDetails } from '@temporalio/workflow';
import type { Verdict } from '../verdicts';
import type { Actor } from '../vocabulary';
import type { ReturnReceipt, ReturnRejection, ReturnView, ReturnWorkflowInput } from './messages';

/** A receipt or a rejection waiting for the main flow. */
export type Action = { id: number } & (
  { kind: 'receive'; receipt: ReturnReceipt } | { kind: 'reject'; rejection: ReturnRejection }
);

export interface ReturnState {
  readonly input: ReturnWorkflowInput;
  readonly customer: Actor;
  /** The return the query answers. */
  readonly view: ReturnView;
  /** The request's answer: unset until recorded; a failure when it was refused. */
  opened?: { failure?: ApplicationFailure };
  readonly actions: Action[];
  readonly verdicts: Map<number, Verdict>;
  nextActionId: number;
  /** An action was accepted (or the return expired): no other may be. */
  settled: boolean;
}

export function newReturnState(input: ReturnWorkflowInput): ReturnState {
  const customer: Actor = { id: input.customerId, role: 'CUSTOMER' };
  return {
    input,
    customer,
    view: {
      returnId: input.returnId,
      orderId: input.orderId,
      status: 'REQUESTED',
      reason: input.reason,
      lines: input.lines.map((l) => ({ ...l })),
      timeline: [],
      requestedBy: customer,
    },
    actions: [],
    verdicts: new Map(),
    nextActionId: 0,
    settled: false,
  };
}

export function record(s: ReturnState, event: string, actor: Actor, detail?: string): void {
  s.view.timeline.push({ at: new Date().toISOString(), event, actor, detail });
  setCurrentDetails(describe(s.view));
}

/** The Web UI's summary: where the return stands and what it waits for. */
function describe(view: ReturnView): string {
  if (view.status === 'REQUESTED')
    return (
      `Waiting for the goods until ${view.expiresAt}. Receive them with POST /admin/returns/${view.returnId}/receive ` +
      `or reject the return with POST /admin/returns/${view.returnId}/reject.`
    );
  return `${view.status}${view.refundId ? ` (refund ${view.refundId})` : ''}.`;
}
