/**
 * One tick of a low-stock schedule: send the crossings the ledger recorded (every minute), or
 * the daily digest of everything at or below its threshold. Each email goes once by its key.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { LowStockInput } from './messages';

const mail = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5s', maximumInterval: '5m' },
});

export async function lowStockWorkflow(input: LowStockInput): Promise<void> {
  if (input.mode === 'ALERTS') await mail.sendLowStockAlerts();
  else await mail.sendLowStockDigest({ day: new Date().toISOString().slice(0, 10) });
}
