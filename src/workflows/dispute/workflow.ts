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
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  setCurrentDetails,
  setHandler,
} from '@temporalio/workflow';
import { activitiesFor } from '../policies';
import { businessFailure, refusal } from '../failures';
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

interface PendingEvidence {
  id: number;
  submission: EvidenceSubmission;
}

export async function disputeWorkflow(input: DisputeWorkflowInput): Promise<DisputeView> {
  const providerActor: Actor = { id: `provider:${input.provider.toLowerCase()}`, role: 'SYSTEM' };
  const view: DisputeView = {
    provider: input.provider,
    disputeId: input.disputeId,
    recordId: input.recordId,
    orderId: input.orderId,
    status: 'OPEN',
    reminded: false,
    eventsApplied: [],
    timeline: [],
  };
  const events: DisputeEvent[] = [input.first];
  const seen = new Set<string>([input.first.eventId]);
  const evidence: PendingEvidence[] = [];
  const verdicts = new Map<number, ApplicationFailure | 'ACCEPTED'>();
  let nextEvidenceId = 0;

  setHandler(getDisputeQuery, () => view, {
    description: 'The dispute: amount, reason, evidence deadline, evidence, outcome, and its timeline.',
  });
  setHandler(
    disputeEventSignal,
    (event) => {
      if (seen.has(event.eventId)) return; // a redelivery of an event already here
      seen.add(event.eventId);
      events.push(event);
    },
    { description: 'A verified provider event about this dispute (sent by its webhook workflow).' },
  );
  setHandler(
    submitEvidenceUpdate,
    async (submission) => {
      const id = nextEvidenceId++;
      evidence.push({ id, submission });
      await condition(() => verdicts.has(id));
      const verdict = verdicts.get(id);
      if (verdict !== 'ACCEPTED') throw verdict;
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

  function record(event: string, actor: Actor, detail?: string): void {
    view.timeline.push({ at: new Date().toISOString(), event, actor, detail });
    setCurrentDetails(describe(view));
  }

  async function apply(event: DisputeEvent): Promise<void> {
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
      applied.ignored ? 'EVENT_IGNORED' : 'EVENT_APPLIED',
      providerActor,
      `${event.eventType} (${event.eventId}): ${applied.ignored ? 'older than, or after, what is recorded' : `${event.providerStatus}`}`,
    );
    if (first) await act.sendDisputeEmail({ recordId: input.recordId, kind: 'DISPUTE_OPENED' });
    if (before === 'OPEN' && view.status !== 'OPEN') {
      record(view.status === 'WON' ? 'DISPUTE_WON' : 'DISPUTE_LOST', providerActor, event.providerStatus);
      await act.sendDisputeEmail({
        recordId: input.recordId,
        kind: view.status === 'WON' ? 'DISPUTE_WON' : 'DISPUTE_LOST',
      });
    }
  }

  async function submit(pending: PendingEvidence): Promise<void> {
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

  /** How long until the reminder is due (0: now), or undefined when none is to be sent. */
  function untilReminder(): number | undefined {
    if (view.reminded || view.evidence || !view.evidenceDueBy) return undefined;
    return Math.max(Date.parse(view.evidenceDueBy) - input.reminderLeadMs - Date.now(), 0);
  }

  while (view.status === 'OPEN' || events.length > 0) {
    const event = events.shift();
    if (event) {
      await apply(event);
      continue;
    }
    const pending = evidence.shift();
    if (pending) {
      await submit(pending);
      continue;
    }
    const wait = untilReminder();
    const news = () => events.length > 0 || evidence.length > 0;
    if (wait === undefined) {
      await condition(news);
      continue;
    }
    if (!(await condition(news, wait))) {
      view.reminded = true;
      await act.sendDisputeEmail({ recordId: input.recordId, kind: 'DISPUTE_REMINDER', key: view.evidenceDueBy });
      record('ADMINS_REMINDED', SYSTEM, `evidence due ${view.evidenceDueBy}`);
    }
  }
  for (let late = evidence.shift(); late; late = evidence.shift())
    verdicts.set(late.id, refusal(ErrorCode.DISPUTE_CLOSED, `The dispute is ${view.status}`));
  await condition(allHandlersFinished);
  return view;
}

function describe(view: DisputeView): string {
  if (view.status !== 'OPEN') return `Dispute ${view.status}.`;
  return (
    `Open: ${view.amount} ${view.currency} (${view.reason}), evidence due ${view.evidenceDueBy ?? 'date not given'}` +
    `${view.evidence ? '; evidence submitted' : '. Submit it with POST /admin/disputes/' + view.recordId + '/evidence'}.`
  );
}
