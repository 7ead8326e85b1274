/**
 * price-schedule-<scheduleId>: an admin's scheduled price change as a durable workflow. It
 * sleeps on a Temporal timer until the start, applies the new prices, and, for a sale (an end
 * time), sleeps until the end and restores the prices they replaced. An admin's cancel (update,
 * validated here) before the start changes nothing; during the sale it restores the prices at
 * once. Cancelling the workflow itself (Web UI, CLI) ends a sale the same way, as the system.
 * Every step is recorded and audited by its activity; the timers are the workflow's only clock.
 */
import {
  CancellationScope,
  allHandlersFinished,
  condition,
  isCancellation,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { refusal } from '../failures';
import { activitiesFor } from '../policies';
import { ErrorCode, SYSTEM } from '../vocabulary';
import {
  cancelPriceScheduleUpdate,
  getPriceScheduleProgressQuery,
  type CancelPriceScheduleRequest,
  type PriceScheduleInput,
  type PriceScheduleStatus,
} from './messages';

const acts = activitiesFor('applyPriceSchedule', 'endPriceSchedule');

const SYSTEM_CANCEL: CancelPriceScheduleRequest = {
  actor: SYSTEM,
  reason: 'The price schedule workflow was cancelled',
};

export async function priceScheduleWorkflow(input: PriceScheduleInput): Promise<PriceScheduleStatus> {
  const { workflowId } = workflowInfo();
  const state: { status: PriceScheduleStatus; cancel?: CancelPriceScheduleRequest; settled: boolean } = {
    status: 'SCHEDULED',
    settled: false,
  };

  // ---- Handlers -----------------------------------------------------------------------------
  setHandler(getPriceScheduleProgressQuery, () => ({ status: state.status, cancelRequested: !!state.cancel }));
  setHandler(
    cancelPriceScheduleUpdate,
    async (request) => {
      state.cancel = request;
      await condition(() => state.settled);
      // A cancel that arrived while the change was being applied for good, or the sale ending.
      if (state.status !== 'CANCELLED')
        throw refusal(ErrorCode.INVALID_PRICE_SCHEDULE_STATE, `The schedule became ${state.status} first`, {
          status: state.status,
        });
      return { status: state.status };
    },
    {
      validator: (request) => {
        if (!request?.actor?.id || !request.reason?.trim())
          throw refusal(ErrorCode.VALIDATION_ERROR, 'A cancel names its actor and gives a reason');
        if (state.cancel) throw refusal(ErrorCode.INVALID_PRICE_SCHEDULE_STATE, 'The schedule is being cancelled');
        if (state.status !== 'SCHEDULED' && state.status !== 'ACTIVE')
          throw refusal(
            ErrorCode.INVALID_PRICE_SCHEDULE_STATE,
            `A schedule that is ${state.status} cannot be cancelled`,
            {
              status: state.status,
            },
          );
      },
      description:
        'Cancel the schedule: before its start nothing changes; during a sale its prices are restored at once.',
    },
  );

  // ---- Steps --------------------------------------------------------------------------------
  /** Sleeps on a timer until `at`, or until an admin cancels. */
  const waitUntil = async (at: string) => {
    const ms = Date.parse(at) - Date.now();
    if (ms > 0 && !state.cancel) await condition(() => state.cancel !== undefined, ms);
  };
  const apply = async () => {
    state.status = (await acts.applyPriceSchedule({ scheduleId: input.scheduleId, workflowId })).status;
  };
  /** The sale's end (or an admin's cancel, before the start or during the sale). */
  const end = async (cancel?: CancelPriceScheduleRequest) => {
    state.status = (
      await acts.endPriceSchedule({
        scheduleId: input.scheduleId,
        workflowId,
        cancel: cancel && { actorId: cancel.actor.id, reason: cancel.reason },
      })
    ).status;
  };

  // ---- Main flow ----------------------------------------------------------------------------
  try {
    await waitUntil(input.startsAt);
    if (state.cancel) await end(state.cancel);
    else {
      await apply();
      if (state.status === 'ACTIVE' && input.endsAt) {
        await waitUntil(input.endsAt);
        await end(state.cancel);
      }
    }
  } catch (error) {
    if (!isCancellation(error)) throw error;
    await CancellationScope.nonCancellable(() => end(SYSTEM_CANCEL));
  }
  state.settled = true;
  // A cancelled workflow still lets a cancel update in flight answer before it closes.
  await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  return state.status;
}
