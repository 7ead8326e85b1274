/**
 * One tick of a low-stock schedule: send the crossings the ledger recorded (every minute), or
 * the daily digest of everything at or below its threshold. Each email goes once by its key.
 */
import { activitiesFor } from '../policies';
import type { LowStockInput } from './messages';

const act = activitiesFor('sendLowStockAlerts', 'sendLowStockDigest');

export async function lowStockWorkflow(input: LowStockInput): Promise<void> {
  if (input.mode === 'ALERTS') await act.sendLowStockAlerts();
  else await act.sendLowStockDigest({ day: new Date().toISOString().slice(0, 10) });
}
