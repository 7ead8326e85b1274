/**
 * The dispute workflow's logic against the real Temporal dev server, with stubbed activities:
 * opened, reminded before the deadline, evidence submitted, won; a decision arriving first (out
 * of order) ends it at once; a redelivered event is applied once. With RECORD_HISTORIES=1
 * scenarios write their histories for replay.test.ts.
 */

import { randomUUID } from 'node:crypto';
import type { Activities } from '../../src/activities';
import {
  disputeEventSignal,
  getDisputeQuery,
  submitEvidenceUpdate,
  type DisputeEvent,
  type DisputeState,
  type DisputeWorkflowInput,
} from '../../src/workflows/dispute/messages';
import type { disputeWorkflow } from '../../src/workflows/dispute/workflow';
import { eventually } from '../helpers/stack';
import { keepHistory, recording, useStubWorker, updateRefusal } from '../helpers/workflow-worker';

const admin = randomUUID();
/** What the stubbed store holds per dispute: a decision is final. */
const states = new Map<string, DisputeState>();

const stubs: Partial<Activities> = {
  async applyDisputeEvent(input) {
    const before = states.get(input.recordId);
    const decided = before !== undefined && before !== 'OPEN';
    const status = decided ? before : input.event.state;
    states.set(input.recordId, status);
    return {
      status,
      amount: input.event.amount,
      currency: input.event.currency,
      reason: input.event.reason,
      evidenceDueBy: input.event.evidenceDueBy,
      ignored: decided,
    };
  },
  async submitDisputeEvidence() {
    return { at: new Date().toISOString(), submittedToProvider: true };
  },
  async sendDisputeEmail() {},
};
const { wrapped, callsOf } = recording(stubs, (input) => String(input.recordId));

const worker = useStubWorker(wrapped);

function event(disputeId: string, state: DisputeState, overrides: Partial<DisputeEvent> = {}): DisputeEvent {
  return {
    provider: 'STRIPE',
    disputeId,
    eventId: `evt_${randomUUID()}`,
    eventType: state === 'OPEN' ? 'charge.dispute.created' : 'charge.dispute.closed',
    state,
    providerStatus: state === 'OPEN' ? 'needs_response' : state.toLowerCase(),
    amount: 4000,
    currency: 'USD',
    reason: 'fraudulent',
    evidenceDueBy: new Date(Date.now() + 86_400_000).toISOString(),
    occurredAt: new Date().toISOString(),
    ...overrides,
  };
}

async function start(first: DisputeEvent, reminderLeadMs: number) {
  const recordId = randomUUID();
  const input: DisputeWorkflowInput = {
    provider: 'STRIPE',
    disputeId: first.disputeId,
    recordId,
    orderId: randomUUID(),
    paymentId: randomUUID(),
    reminderLeadMs,
    first,
  };
  const handle = await worker.client.workflow.start<typeof disputeWorkflow>('disputeWorkflow', {
    workflowId: `dispute-stripe-${first.disputeId}`,
    taskQueue: worker.taskQueue,
    args: [input],
  });
  return { recordId, handle };
}

test('opened, reminded before the deadline, evidence submitted, won', async () => {
  const disputeId = `dp_${randomUUID().slice(0, 8)}`;
  const opened = event(disputeId, 'OPEN');
  // The deadline is a day away and the lead a week: the reminder is due at once.
  const { recordId, handle } = await start(opened, 7 * 86_400_000);
  await eventually(async () => (await handle.query(getDisputeQuery)).reminded, 'reminded');
  await handle.signal(disputeEventSignal, opened); // redelivered: applied once
  const answered = await handle.executeUpdate(submitEvidenceUpdate, { args: [{ adminId: admin, note: 'receipt' }] });
  expect(answered.evidence).toMatchObject({ by: admin, note: 'receipt', submittedToProvider: true });
  const twice = await updateRefusal(
    handle.executeUpdate(submitEvidenceUpdate, { args: [{ adminId: admin, note: 'again' }] }),
  );
  expect(twice.type).toBe('DISPUTE_CLOSED');
  await handle.signal(disputeEventSignal, event(disputeId, 'WON'));
  const result = await handle.result();
  expect(result).toMatchObject({ status: 'WON', reminded: true });
  expect(callsOf(recordId, 'applyDisputeEvent')).toHaveLength(2);
  expect(callsOf(recordId, 'sendDisputeEmail').map((c) => c.input.kind)).toEqual([
    'DISPUTE_OPENED',
    'DISPUTE_REMINDER',
    'DISPUTE_EVIDENCE',
    'DISPUTE_WON',
  ]);
  await keepHistory('dispute-reminded-evidence-won', handle);
});

test('the decision arriving first ends the dispute at once, opened and decided', async () => {
  const disputeId = `dp_${randomUUID().slice(0, 8)}`;
  const { recordId, handle } = await start(event(disputeId, 'LOST'), 86_400_000);
  expect(await handle.result()).toMatchObject({ status: 'LOST', reminded: false });
  expect(callsOf(recordId, 'sendDisputeEmail').map((c) => c.input.kind)).toEqual(['DISPUTE_OPENED', 'DISPUTE_LOST']);
  await keepHistory('dispute-lost-decision-first', handle);
});
