/**
 * The one error type for a business refusal: a code from the closed vocabulary (ErrorCode), a
 * message for people, and details for machines. Capability code throws it; the API renders it
 * with the HTTP status its code maps to (src/api/errors.ts), the CLI exits with the code's exit
 * status (scripts/ops.ts), and an activity hands it to its workflow as a non-retryable
 * ApplicationFailure of the same type (asActivityFailure). Transport-free, so every layer may
 * import it and none imports another's error type.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { RefusalCode } from '../workflows/vocabulary';

export class DomainError extends Error {
  constructor(
    readonly code: RefusalCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/**
 * The refusal as an activity failure: non-retryable (a refusal does not change on retry), with
 * the code as its type and the details as its single detail, which is how workflows and the API
 * read them.
 */
export function refusalFailure(code: RefusalCode, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type: code,
    message,
    details: details === undefined ? undefined : [details],
    nonRetryable: true,
  });
}

/** A DomainError thrown inside an activity becomes its refusal failure; anything else is left as it is. */
export function asActivityFailure(error: unknown): unknown {
  return error instanceof DomainError ? refusalFailure(error.code, error.message, error.details) : error;
}

/** Runs an activity's work through the capability's one implementation, its refusals handed on as refusal failures. */
export async function refusing<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asActivityFailure(error);
  }
}
