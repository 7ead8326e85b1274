import { ActivityFailure, ApplicationFailure, log } from '@temporalio/workflow';

/**
 * The business refusal inside an activity failure (INSUFFICIENT_STOCK, REFUND_PENDING, ...), so
 * a workflow can hand it to its caller unchanged; anything unexpected becomes a plain failure
 * and is logged.
 */
export function businessFailure(error: unknown): ApplicationFailure {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) return cause;
  log.error('Unexpected failure', { error: String(error) });
  return ApplicationFailure.create({ message: String((cause as Error)?.message ?? error), nonRetryable: true });
}
