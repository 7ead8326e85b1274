/**
 * A refusal of an inventory or catalogue operation (unknown variant, stock below what unpaid
 * orders hold, a duplicate SKU...), with a code from the shared vocabulary. The API, the CLI and
 * the activities each render it their own way; the operation itself never knows about HTTP.
 */
import type { ErrorCode } from '../workflows/vocabulary';

export class InventoryError extends Error {
  constructor(
    readonly code: ErrorCode | 'VALIDATION',
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'InventoryError';
  }
}
