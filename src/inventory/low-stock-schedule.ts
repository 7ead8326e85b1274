/**
 * The two Temporal Schedules of low stock, visible in `temporal schedule list`: every minute the
 * crossings are emailed (LOW_STOCK_ALERT_INTERVAL), and once a day the digest
 * (LOW_STOCK_DIGEST_INTERVAL). Created once, updated to the current intervals at worker start.
 */
import type { Client } from '@temporalio/client';
import { upsertSchedule } from '../platform/temporal';
import type { Config } from '../platform/config';
import type { lowStockWorkflow } from '../workflows/low-stock/workflow';

export async function ensureLowStockSchedules(
  client: Client,
  config: Pick<Config, 'TEMPORAL_TASK_QUEUE' | 'LOW_STOCK_ALERT_INTERVAL' | 'LOW_STOCK_DIGEST_INTERVAL'>,
): Promise<{ alerts: string; digest: string }> {
  const ensure = async (mode: 'ALERTS' | 'DIGEST', every: number) => {
    const scheduleId = `${config.TEMPORAL_TASK_QUEUE}-low-stock-${mode.toLowerCase()}`;
    const action = {
      type: 'startWorkflow' as const,
      workflowType: 'lowStockWorkflow',
      workflowId: `low-stock-${mode.toLowerCase()}`,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [{ mode }] as Parameters<typeof lowStockWorkflow>,
    };
    return upsertSchedule(client, { scheduleId, spec: { intervals: [{ every }] }, action });
  };
  return {
    alerts: await ensure('ALERTS', config.LOW_STOCK_ALERT_INTERVAL),
    digest: await ensure('DIGEST', config.LOW_STOCK_DIGEST_INTERVAL),
  };
}
