/**
 * The return's pure guards: what a receipt or a rejection must say before the workflow takes it.
 * No workflow state and no commands, so validators can call them.
 */
import { refusal } from '../failures';
import { ErrorCode } from '../vocabulary';
import type { ReturnLineRequest, ReturnReceipt, ReturnRejection } from './messages';

/** A receipt names its admin and at least one line. */
export function assertReceiptComplete(receipt: ReturnReceipt): void {
  if (!receipt?.adminId || !Array.isArray(receipt.lines) || receipt.lines.length === 0)
    throw refusal(ErrorCode.VALIDATION_ERROR, 'adminId and at least one line are required');
}

/** Each received line is a positive quantity in a known condition, of a product asked for, no more than asked. */
export function assertReceiptLines(receipt: ReturnReceipt, asked: ReturnLineRequest[]): void {
  const totals = new Map<string, number>();
  for (const line of receipt.lines) {
    if (!Number.isInteger(line.quantity) || line.quantity < 1 || !['RESTOCK', 'DAMAGED'].includes(line.condition))
      throw refusal(ErrorCode.VALIDATION_ERROR, 'each line needs a positive quantity and condition RESTOCK or DAMAGED');
    totals.set(line.productId, (totals.get(line.productId) ?? 0) + line.quantity);
  }
  for (const [productId, quantity] of totals) {
    const requested = asked.find((l) => l.productId === productId)?.quantity;
    if (requested === undefined)
      throw refusal(ErrorCode.VALIDATION_ERROR, `Product ${productId} is not part of this return`, { productId });
    if (quantity > requested)
      throw refusal(ErrorCode.RETURN_QUANTITY_TOO_HIGH, `Only ${requested} of ${productId} were asked to be returned`, {
        productId,
        asked: requested,
        received: quantity,
      });
  }
}

/** A rejection names its admin and says why. */
export function assertRejectionComplete(rejection: ReturnRejection): void {
  if (!rejection?.adminId || !rejection.reason?.trim())
    throw refusal(ErrorCode.VALIDATION_ERROR, 'adminId and reason are required');
}
