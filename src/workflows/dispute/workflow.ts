/**
 * One workflow per provider dispute (`dispute-<provider>-<disputeId>`), started (or signalled)
 * by the webhook workflow of each verified dispute event. It replaces "someone notices the
 * chargeback email, hopefully before the deadline":
 *
 *   record the dispute on the order and its payment (no refund or return while open) -> email
 *   admins the amount, reason and evidence deadline -> remind them DISPUTE_REMINDER_LEAD before
 *   the deadline unless evidence is in -> an admin submits evidence (through Stripe's API) ->
 *   the provider's outcome: WON, or LOST (counted as money returned) -> admins told.
 *
 * Events come twice and out of order: each is applied once (by event id), a decided dispute
 * stays decided, and an older event changes nothing (src/disputes/disputes.ts).
 */
import { allHandlersFinished, condition, setCurrentDetails, setHandler } from '@temporalio/workflow';
import { businessFailure, refusal } from '../failures';
import { activitiesFor } from '../policies';
import { awaitVerdict, type Verdict } from '../verdicts';
import { ErrorCode, SYSTEM, type Actor } from '../vocabulary';
import {
  disputeEventSignal,
  getDisputeQuery,
  submitEvidenceUpdate,
  type DisputeEvent,
  type DisputeView,
  type DisputeWorkflowInput,
  type EvidenceSubmission,
} from './messages';

const act = activitiesFor('applyDisputeEvent', 'submitDisputeEvidence', 'sendDisputeEmail');

/** What one dispute's workflow holds: its view, the events and evidence queued, and each update's verdict. */
interface DisputeState {
  readonly input: DisputeWorkflowInput;
  readonly view: DisputeView;
  /** Who the provider's events are recorded as. */
  readonly providerActor: Actor;
  readonly events: DisputeEvent[];
  readonly seen: Set<string>;
  readonly evidence: { id: number; submission: EvidenceSubmission }[];
  readonly verdicts: Map<number, Verdict>;
  nextEvidenceId: number;
}

export async function disputeWorkflow(input: DisputeWorkflowInput): Promise<DisputeView> {
  const s = newDisputeState(input);
  registerHandlers(s);

  // Until the provider decides: apply each event once (the first records the dispute and emails
  // admins), submit the evidence an admin sends, and remind admins before the evidence deadline.
  while (s.view.status === 'OPEN' || s.events.length > 0) {
    const event = s.events.shift();
    if (event) {
      await applyEvent(s, event);
      continue;
    }
    const pending = s.evidence.shift();
    if (pending) {
      await submitEvidence(s, pending);
      continue;
    }
    await awaitNewsOrRemind(s);
  }

  // Decided: evidence sent too late is refused.
  for (let late = s.evidence.shift(); late; late = s.evidence.shift())
    s.verdicts.set(late.id, refusal(ErrorCode.DISPUTE_CLOSED, `The dispute is ${s.view.status}`));
  await condition(allHandlersFinished);
  return s.view;
}

function newDisputeState(input: DisputeWorkflowInput): DisputeState {
  return {
    input,
    view: {
      provider: input.provider,
      disputeId: input.disputeId,
      recordId: input.recordId,
      orderId: input.orderId,
      status: 'OPEN',
      reminded: false,
      eventsApplied: [],
      timeline: [],
    },
    providerActor: { id: `provider:${input.provider.toLowerCase()}`, role: 'SYSTEM' },
    events: [input.first],
    seen: new Set([input.first.eventId]),
    evidence: [],
    verdicts: new Map(),
    nextEvidenceId: 0,
  };
}

function registerHandlers(s: DisputeState): void {
  const { view } = s;
  setHandler(getDisputeQuery, () => view, {
    description: 'The dispute: amount, reason, evidence deadline, evidence, outcome, and its timeline.',
  });
  setHandler(
    disputeEventSignal,
    (event) => {
      if (s.seen.has(event.eventId)) return; // a redelivery of an event already here
      s.seen.add(event.eventId);
      s.events.push(event);
    },
    { description: 'A verified provider event about this dispute (sent by its webhook workflow).' },
  );
  setHandler(
    submitEvidenceUpdate,
    async (submission) => {
      const id = s.nextEvidenceId++;
      s.evidence.push({ id, submission });
      await awaitVerdict(s.verdicts, id);
      return view;
    },
    {
      validator: (submission) => {
        if (!submission?.adminId || !submission.note?.trim())
          throw refusal(ErrorCode.VALIDATION_ERROR, 'adminId and note are required');
        if (view.status !== 'OPEN') throw refusal(ErrorCode.DISPUTE_CLOSED, `The dispute is ${view.status}`);
        if (view.evidence)
          throw refusal(ErrorCode.DISPUTE_CLOSED, `Evidence was already submitted at ${view.evidence.at}`);
      },
      description: 'Record (and, for Stripe, submit) the evidence: {"adminId", "note"}.',
    },
  );
}

// ---- The steps -----------------------------------------------------------------------------------

/** Applies one provider event to the dispute's record; admins hear when it opens and when it is decided. */
async function applyEvent(s: DisputeState, event: DisputeEvent): Promise<void> {
  const { input, view, providerActor } = s;
  const before = view.status;
  const applied = await act.applyDisputeEvent({
    recordId: input.recordId,
    orderId: input.orderId,
    paymentId: input.paymentId,
    event,
  });
  view.eventsApplied.push(event.eventId);
  const first = view.amount === undefined;
  Object.assign(view, {
    status: applied.status,
    amount: applied.amount,
    currency: applied.currency,
    reason: applied.reason,
    evidenceDueBy: applied.evidenceDueBy,
  });
  record(
    s,
    applied.ignored ? 'EVENT_IGNORED' : 'EVENT_APPLIED',
    providerActor,
    `${event.eventType} (${event.eventId}): ${applied.ignored ? 'older than, or after, what is recorded' : `${event.providerStatus}`}`,
  );
  if (first) await act.sendDisputeEmail({ recordId: input.recordId, kind: 'DISPUTE_OPENED' });
  if (before === 'OPEN' && view.status !== 'OPEN') {
    record(s, view.status === 'WON' ? 'DISPUTE_WON' : 'DISPUTE_LOST', providerActor, event.providerStatus);
    await act.sendDisputeEmail({
      recordId: input.recordId,
      kind: view.status === 'WON' ? 'DISPUTE_WON' : 'DISPUTE_LOST',
    });
  }
}

/** Submits an admin's evidence (to Stripe; Razorpay's is recorded for its dashboard), once. */
async function submitEvidence(s: DisputeState, pending: DisputeState['evidence'][number]): Promise<void> {
  const { input, view, verdicts } = s;
  const { adminId, note } = pending.submission;
  if (view.status !== 'OPEN' || view.evidence) {
    verdicts.set(pending.id, refusal(ErrorCode.DISPUTE_CLOSED, `The dispute is ${view.status}`));
    return;
  }
  try {
    const submitted = await act.submitDisputeEvidence({
      recordId: input.recordId,
      provider: input.provider,
      disputeId: input.disputeId,
      adminId,
      note,
    });
    view.evidence = { by: adminId, note, ...submitted };
    record(
      s,
      'EVIDENCE_SUBMITTED',
      { id: adminId, role: 'ADMIN' },
      submitted.submittedToProvider ? 'submitted to the provider' : 'recorded; submit it in the provider dashboard',
    );
    verdicts.set(pending.id, 'ACCEPTED');
    await act.sendDisputeEmail({ recordId: input.recordId, kind: 'DISPUTE_EVIDENCE' });
  } catch (error) {
    verdicts.set(pending.id, businessFailure(error));
  }
}

/** Waits for an event or evidence; admins are reminded once, DISPUTE_REMINDER_LEAD before the deadline. */
async function awaitNewsOrRemind(s: DisputeState): Promise<void> {
  const { input, view } = s;
  const wait = untilReminder(s);
  const news = () => s.events.length > 0 || s.evidence.length > 0;
  if (wait === undefined) {
    await condition(news);
    return;
  }
  if (!(await condition(news, wait))) {
    view.reminded = true;
    await act.sendDisputeEmail({ recordId: input.recordId, kind: 'DISPUTE_REMINDER', key: view.evidenceDueBy });
    record(s, 'ADMINS_REMINDED', SYSTEM, `evidence due ${view.evidenceDueBy}`);
  }
}

/** How long until the reminder is due (0: now), or undefined when none is to be sent. */
function untilReminder(s: DisputeState): number | undefined {
  const { view } = s;
  if (view.reminded || view.evidence || !view.evidenceDueBy) return undefined;
  return Math.max(Date.parse(view.evidenceDueBy) - s.input.reminderLeadMs - Date.now(), 0);
}

function record(s: DisputeState, event: string, actor: Actor, detail?: string): void {
  s.view.timeline.push({ at: new Date().toISOString(), event, actor, detail });
  setCurrentDetails(describe(s.view));
}

function describe(view: DisputeView): string {
  if (view.status !== 'OPEN') return `Dispute ${view.status}.`;
  return (
    `Open: ${view.amount} ${view.currency} (${view.reason}), evidence due ${view.evidenceDueBy ?? 'date not given'}` +
    `${view.evidence ? '; evidence submitted' : '. Submit it with POST /admin/disputes/' + view.recordId + '/evidence'}.`
  );
}
