/**
 * The `Idempotency-Key` header, one implementation for every route that takes it (checkout,
 * manual refunds, goodwill credits). A client that retries after a timeout or a 503 sends the
 * same key; the key names what the first request made (an order id, a refund id: a UUID v5 of
 * who asked and the key), so the retry finds it instead of making another. A workflow named
 * after that id can be started once, so Temporal itself enforces it, even for requests that
 * arrive together. Keys are capped: a long one is a 400, never a 500. What a key names, and the
 * refusal of a key reused for another request, are src/platform/idempotency.ts's.
 */
import type { Request } from 'express';
import { DomainError } from '../platform/errors';
import { ErrorCode } from '../workflows/vocabulary';

export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

/** The request's Idempotency-Key, if it sent one: 400 INVALID_IDEMPOTENCY_KEY when empty or too long. */
export function idempotencyKeyOf(req: Request): string | undefined {
  const raw = req.header('idempotency-key');
  if (raw === undefined) return undefined;
  const key = raw.trim();
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new DomainError(
      ErrorCode.INVALID_IDEMPOTENCY_KEY,
      `The Idempotency-Key header must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`,
      { maxLength: MAX_IDEMPOTENCY_KEY_LENGTH },
    );
  }
  return key;
}
