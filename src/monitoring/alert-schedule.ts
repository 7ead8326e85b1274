/**
 * The Temporal Schedule that runs the alert evaluation every ALERT_EVALUATION_INTERVAL, visible in
 * `temporal schedule list`. Created by the worker at start-up, updated to the current interval;
 * an evaluation still running when the next is due makes that one skip (never two at once).
 */
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { upsertSchedule } from '../platform/temporal';
import type { Config } from '../platform/config';

export const alertScheduleId = (taskQueue: string) => `${taskQueue}-alert-evaluation`;

export async function ensureAlertSchedule(
  client: Client,
  config: Pick<Config, 'TEMPORAL_TASK_QUEUE' | 'ALERT_EVALUATION_INTERVAL'>,
): Promise<string> {
  const scheduleId = alertScheduleId(config.TEMPORAL_TASK_QUEUE);
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'alertEvaluationWorkflow',
    workflowId: scheduleId,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    args: [],
  };
  const spec = { intervals: [{ every: config.ALERT_EVALUATION_INTERVAL }] };
  return upsertSchedule(client, { scheduleId, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP } });
}
