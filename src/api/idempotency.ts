/**
 * The `Idempotency-Key` header, one implementation for every route that takes it (checkout,
 * manual refunds, goodwill credits). A client that retries after a timeout or a 503 sends the
 * same key; the key names what the first request made (an order id, a refund id: a UUID v5 of
 * who asked and the key), so the retry finds it instead of making another. A workflow named
 * after that id can be started once, so Temporal itself enforces it, even for requests that
 * arrive together. Keys are capped: a long one is a 400, never a 500.
 */
import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { v5 as uuidv5 } from 'uuid';
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

/** The id a key names within `namespace` (a UUID of its own per kind of thing), for the parts that scope it. */
export function idFromKey(namespace: string, ...scope: string[]): string {
  return uuidv5(scope.join(':'), namespace);
}

/** A digest of a request body, to tell a retry (same body) from a reused key (another body). */
export function requestFingerprint(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('base64url');
}

/** 422: the key was used for a different request; `details` names what it made. */
export function keyReused(what: string, details: Record<string, unknown>): DomainError {
  return new DomainError(
    ErrorCode.IDEMPOTENCY_KEY_REUSED,
    `This Idempotency-Key was used for a different ${what}`,
    details,
  );
}

/** JSON with object keys sorted, so two equal bodies give one digest whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
