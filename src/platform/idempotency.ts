/**
 * Idempotency by business key: the id a client's key names (a UUID v5 of who asked and the key,
 * per kind of thing), a request's fingerprint to tell a retry from a reused key, and the refusal
 * of a reused key. The API reads the key from its header; the capabilities name what they make
 * after it, so a workflow started under that id runs once whoever retries.
 */
import { createHash } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import { DomainError } from './errors';
import { ErrorCode } from '../workflows/vocabulary';

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
