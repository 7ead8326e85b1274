/**
 * How an update waits for the main flow's answer to what it queued (a refund's decision, a
 * return's receipt, a dispute's evidence): the main flow sets a verdict per queued request,
 * accepted or the refusal to throw, and the update answers once it has one (and, when accepted,
 * once what it waits for has happened). One way for every workflow that queues its updates.
 */
import { ApplicationFailure, condition } from '@temporalio/workflow';

/** The main flow's answer to one queued request. */
export type Verdict = ApplicationFailure | 'ACCEPTED';

/** Waits for request `id`'s verdict and throws a refusal; an accepted one also waits for `done`. */
export async function awaitVerdict(
  verdicts: Map<number, Verdict>,
  id: number,
  done: () => boolean = () => true,
): Promise<void> {
  await condition(() => verdicts.has(id) && (verdicts.get(id) !== 'ACCEPTED' || done()));
  const verdict = verdicts.get(id);
  if (verdict !== 'ACCEPTED') throw verdict;
}
