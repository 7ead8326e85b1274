/**
 * The refund workflow's logic against the real Temporal dev server, with stubbed activities:
 * decisions by update and by signal, who may decide, concurrent decisions, reminders, the
 * trusted-customer policy, manual refunds, and settlement by webhook, status check or failure.
 * With RECORD_HISTORIES=1 scenarios write their histories for replay.test.ts.
 */
import { WithStartWorkflowOperation, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import type { Activities } from '../../src/activities';
import {
  approveRefundSignal,
  approveRefundUpdate,
  decideHeldRefundSignal,
  decideHeldRefundUpdate,
  getRefundQuery,
  refundSettledSignal,
  rejectRefundSignal,
  rejectRefundUpdate,
  requestRefundUpdate,
  type RefundSettlement,
  type RefundView,
  type RefundWorkflowInput,
} from '../../src/workflows/refund/messages';
import { type Actor } from '../../src/workflows/vocabulary';
import { adminNamedBy } from '../../src/access/request-seals';
import type { refundWorkflow } from '../../src/workflows/refund/workflow';
import { eventually } from '../helpers/stack';
import { keepHistory, recording, useStubWorker, updateRefusal } from '../helpers/workflow-worker';
import { refundWorkflowId } from '../../src/workflows/ids';

const admin: Actor = { id: randomUUID(), role: 'ADMIN' };
const otherAdmin: Actor = { id: randomUUID(), role: 'ADMIN' };
const customer: Actor = { id: randomUUID(), role: 'CUSTOMER' };
const TRUSTED = randomUUID();
const FULLY_REFUNDED_ORDER = randomUUID();
/** Orders whose payout is refused: the provider declines the refund, or the wallet holds another currency. */
const DECLINED_BY_PROVIDER = randomUUID();
const WALLET_IN_EUROS = randomUUID();
const admins = new Set([admin.id, otherAdmin.id]);
/** What the stubbed check takes for the API's seal (the real one is an HMAC: src/access/request-seals.ts). */
const API_SEAL = 'sealed-by-the-api';
/** An order whose payment is disputed: its approved refunds are held for an admin. */
const HELD_FOR_DISPUTE = randomUUID();
/** An order whose provider settles refunds at once (as Razorpay does). */
const SETTLED_AT_ONCE = randomUUID();
/** The completion email of this refund waits until the test opens it (the workflow is finishing). */
const heldCompletionEmail: { refundId?: string; opened?: Promise<void>; open?: () => void } = {};
/** What the stubbed provider answers about a refund when the workflow asks (status check). */
const providerSays = new Map<string, RefundSettlement['outcome'][]>();

const stubs: Partial<Activities> = {
  async openRefund(input) {
    if (input.orderId === FULLY_REFUNDED_ORDER) {
      throw ApplicationFailure.create({
        type: 'REFUND_ALREADY_PROCESSED',
        message: 'Refund already processed for this order',
        nonRetryable: true,
      });
    }
    return {
      customerId: input.requestedBy.role === 'CUSTOMER' ? input.requestedBy.id : customer.id,
      amount: input.amount ?? 5000,
      currency: 'USD',
      destination: input.destination ?? 'ORIGINAL_PAYMENT',
    };
  },
  async isTrustedCustomer(input) {
    return input.customerId === TRUSTED;
  },
  // The one active-admin check: an update is the API's only with its seal (stubbed as API_SEAL).
  async activeAdminNamed(input) {
    const named = 'request' in input ? adminNamedBy(input.request) : input.named;
    // By id, or by email (`<id>@example.test`, in any case).
    const id = [...admins].find((a) => a === named || `${a}@example.test` === named.toLowerCase());
    return {
      admin: id ? { id, email: `${id}@example.test` } : null,
      via: 'request' in input && input.request.apiSeal === API_SEAL ? 'api' : 'temporal',
    };
  },
  async recordRefundDecision() {},
  async recordHeldRefundDecision() {},
  async refundHold(input) {
    return input.orderId === HELD_FOR_DISPUTE ? { held: true, disputeId: 'dp_held' } : { held: false };
  },
  async creditRefundToWallet(input) {
    if (input.orderId === WALLET_IN_EUROS) {
      throw ApplicationFailure.create({
        type: 'WALLET_CURRENCY_MISMATCH',
        message: 'The wallet holds EUR; it cannot be credited in USD',
        nonRetryable: true,
      });
    }
    return { entryId: randomUUID(), balance: 5000 };
  },
  async createProviderRefund(input) {
    if (input.orderId === DECLINED_BY_PROVIDER) {
      throw ApplicationFailure.create({
        type: 'STRIPE_CHARGE_ALREADY_REFUNDED',
        message: 'Charge ch_1 has already been refunded.',
        nonRetryable: true,
      });
    }
    // Razorpay answers a refund as processed at once.
    return {
      providerRefundId: `re_${input.refundId.slice(0, 8)}`,
      outcome: input.orderId === SETTLED_AT_ONCE ? 'SUCCEEDED' : 'PENDING',
    };
  },
  // No verified source (stored webhook event, Stripe) says what a `forged-` settlement says.
  async verifyPaymentNews(input) {
    if (input.kind === 'refund' && input.settlement.eventId.startsWith('forged-'))
      return { verified: false, reason: `no stored event ${input.settlement.eventId}, and Stripe disagrees` };
    return { verified: true, by: 'stored-event' };
  },
  async fetchProviderRefundStatus(input) {
    const outcome = providerSays.get(input.refundId)?.shift() ?? 'PENDING';
    return {
      refundId: input.refundId,
      providerRefundId: input.providerRefundId,
      outcome,
      eventId: 'status-check',
      failureReason: outcome === 'FAILED' ? 'charge_for_pending_refund_disputed' : undefined,
    };
  },
  async completeRefund() {
    return { orderStatus: 'REFUNDED', paymentStatus: 'REFUNDED' };
  },
  async failRefund() {},
  async sendRefundEmail(input) {
    if (input.refundId === heldCompletionEmail.refundId) await heldCompletionEmail.opened;
  },
  async reverseCompletedRefund() {
    return { orderId: SETTLED_AT_ONCE, amount: 5000, currency: 'USD', paymentStatus: 'PAID' as const };
  },
  async alertAdmins() {},
  async sendRefundReminder() {},
};
// An admin check names its refund by the workflow id an update was sent to; a signal's by nothing.
const { wrapped, callsOf } = recording(stubs, (input) =>
  String(input.refundId ?? input.key ?? String(input.workflowId ?? 'signal').replace(/^refund-/, '')),
);

const worker = useStubWorker(wrapped);

/** A refund request as the API makes it: update-with-start, answering once it is recorded. */
async function requestRefund(overrides: Partial<RefundWorkflowInput> = {}) {
  const refundId = randomUUID();
  const input: RefundWorkflowInput = {
    refundId,
    orderId: randomUUID(),
    reason: 'arrived damaged',
    requestedBy: customer,
    autoApproveTrusted: true,
    reminderAfterMs: 60_000,
    settleCheckAfterMs: 60_000,
    ...overrides,
  };
  const start = new WithStartWorkflowOperation<typeof refundWorkflow>('refundWorkflow', {
    workflowId: refundWorkflowId(refundId),
    taskQueue: worker.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'FAIL',
  });
  const requested = worker.client.workflow.executeUpdateWithStart(requestRefundUpdate, {
    startWorkflowOperation: start,
  });
  const handle: WorkflowHandle<typeof refundWorkflow> = await start.workflowHandle();
  return { refundId, handle, requested };
}

async function until(handle: WorkflowHandle, ready: (refund: RefundView) => boolean, what: string) {
  return eventually(async () => {
    const refund = await handle.query(getRefundQuery);
    return ready(refund) && refund;
  }, what);
}

test('wallet refund approved through the update: credited once, customer told', async () => {
  const { refundId, handle, requested } = await requestRefund({ destination: 'WALLET' });
  expect(await requested).toMatchObject({ status: 'PENDING_APPROVAL', amount: 5000, destination: 'WALLET' });
  const approved = await handle.executeUpdate(approveRefundUpdate, {
    args: [{ adminId: admin.id, reason: 'damaged in transit', apiSeal: API_SEAL }],
  });
  expect(approved).toMatchObject({
    status: 'COMPLETED',
    walletCredited: 5000,
    decidedBy: admin.id,
    decisionReason: 'damaged in transit',
  });
  expect((await handle.result()).status).toBe('COMPLETED'); // the email goes out after the answer
  expect(callsOf(refundId).map((c) => c.name)).toEqual([
    'openRefund',
    'isTrustedCustomer',
    'activeAdminNamed',
    'recordRefundDecision',
    'refundHold',
    'creditRefundToWallet',
    'completeRefund',
    'sendRefundEmail',
  ]);
  // The API's sealed update: audited as the API's (no via).
  expect(callsOf(refundId, 'activeAdminNamed')[0].input).toEqual({
    workflowId: handle.workflowId,
    update: 'approveRefund',
    request: { adminId: admin.id, reason: 'damaged in transit', apiSeal: API_SEAL },
  });
  expect(callsOf(refundId, 'recordRefundDecision')[0].input.via).toBe('update');
  expect(callsOf(refundId, 'sendRefundEmail')[0].input.kind).toBe('REFUND_COMPLETED');
  // (refund-wallet-approved.json was recorded before refund-one-admin-check: it replays isAdmin.)
  await keepHistory('refund-wallet-approved-one-admin-check', handle);
});

test('a decision sent as an update without the API seal (the Temporal CLI) is audited as sent through Temporal', async () => {
  const { refundId, handle, requested } = await requestRefund();
  await requested;
  // What `temporal workflow update execute --name rejectRefund` sends: no seal, or one that is not the API's.
  const stranger = randomUUID();
  expect(
    (
      await updateRefusal(
        handle.executeUpdate(rejectRefundUpdate, { args: [{ adminId: stranger, reason: 'typed', apiSeal: 'forged' }] }),
      )
    ).type,
  ).toBe('NOT_AN_ADMIN');
  const rejected = await handle.executeUpdate(rejectRefundUpdate, {
    args: [{ adminId: otherAdmin.id, reason: 'from the CLI', apiSeal: 'local-1.forged' }],
  });
  expect(rejected).toMatchObject({ status: 'REJECTED', decidedBy: otherAdmin.id, decisionReason: 'from the CLI' });
  await handle.result();
  expect(callsOf(refundId, 'activeAdminNamed').map((c) => c.input.update)).toEqual(['rejectRefund', 'rejectRefund']);
  expect(callsOf(refundId, 'recordRefundDecision').map((c) => c.input)).toEqual([
    expect.objectContaining({ approved: false, decidedBy: otherAdmin.id, via: 'temporal-update' }),
  ]);
  expect((await handle.query(getRefundQuery)).timeline.find((t) => t.event === 'DECISION_REFUSED')).toMatchObject({
    actor: { id: stranger },
    detail: `rejection via update: ${stranger} is not an active admin`,
  });
  await keepHistory('refund-rejected-through-temporal-update', handle);
});

test("card refund approved by signal, settled by the provider's webhook", async () => {
  const { refundId, handle, requested } = await requestRefund();
  await requested;
  await handle.signal(approveRefundSignal, { adminId: admin.id, reason: 'ok' });
  const waiting = await until(handle, (r) => r.providerRefundId !== undefined, 'provider refund created');
  expect(waiting.status).toBe('APPROVED');
  // A rejection typed into the Web UI after the approval changes nothing, and says so.
  await handle.signal(rejectRefundSignal, { adminId: otherAdmin.id, reason: 'too late' });
  const ignored = await until(
    handle,
    (r) => r.timeline.some((t) => t.event === 'REJECTION_IGNORED'),
    'late rejection ignored',
  );
  expect(ignored).toMatchObject({ status: 'APPROVED', decidedBy: admin.id });
  await handle.signal(refundSettledSignal, {
    refundId,
    providerRefundId: waiting.providerRefundId!,
    outcome: 'SUCCEEDED',
    eventId: 'evt_1',
  });
  expect((await handle.result()).status).toBe('COMPLETED');
  expect(callsOf(refundId, 'createProviderRefund')).toHaveLength(1);
  expect(callsOf(refundId, 'creditRefundToWallet')).toHaveLength(0);
  expect(callsOf(refundId, 'recordRefundDecision')[0].input.via).toBe('signal');
  await keepHistory('refund-card-settled-by-webhook', handle);
});

test('a settlement no verified source confirms is ignored and recorded; the real one settles the refund', async () => {
  const { refundId, handle, requested } = await requestRefund();
  await requested;
  await handle.executeUpdate(approveRefundUpdate, { args: [{ adminId: admin.id, reason: 'ok' }] });
  const waiting = await until(handle, (r) => r.providerRefundId !== undefined, 'provider refund created');
  // Typed into the Web UI's signal form: the refund "failed" (which would fail it), but no stored event says so.
  await handle.signal(refundSettledSignal, {
    refundId,
    providerRefundId: waiting.providerRefundId!,
    outcome: 'FAILED',
    eventId: 'forged-1',
    failureReason: 'typed by hand',
  });
  const ignored = await until(
    handle,
    (r) => r.timeline.some((t) => t.event === 'UNVERIFIED_REFUND_NEWS_IGNORED'),
    'forged settlement ignored',
  );
  expect(ignored.status).toBe('APPROVED');
  expect(callsOf(refundId, 'failRefund')).toHaveLength(0);
  await handle.signal(refundSettledSignal, {
    refundId,
    providerRefundId: waiting.providerRefundId!,
    outcome: 'SUCCEEDED',
    eventId: 'evt_real',
  });
  expect((await handle.result()).status).toBe('COMPLETED');
  expect(
    callsOf(refundId, 'verifyPaymentNews').map((c) => (c.input.settlement as { eventId: string }).eventId),
  ).toEqual(['forged-1', 'evt_real']);
  await keepHistory('refund-unverified-settlement-ignored', handle);
});

test('no webhook: the provider is asked, until it settles; a failed refund is reported', async () => {
  const settled = await requestRefund({ settleCheckAfterMs: 200 });
  await settled.requested;
  providerSays.set(settled.refundId, ['PENDING', 'SUCCEEDED']);
  await settled.handle.executeUpdate(approveRefundUpdate, { args: [{ adminId: admin.id, reason: 'ok' }] });
  expect((await settled.handle.result()).status).toBe('COMPLETED');
  expect(callsOf(settled.refundId, 'fetchProviderRefundStatus')).toHaveLength(2);

  const failed = await requestRefund({ settleCheckAfterMs: 200 });
  await failed.requested;
  providerSays.set(failed.refundId, ['FAILED']);
  await failed.handle.executeUpdate(approveRefundUpdate, { args: [{ adminId: admin.id, reason: 'ok' }] });
  expect(await failed.handle.result()).toMatchObject({
    status: 'FAILED',
    failureReason: 'charge_for_pending_refund_disputed',
  });
  expect(callsOf(failed.refundId, 'failRefund')).toHaveLength(1);
  expect(callsOf(failed.refundId, 'completeRefund')).toHaveLength(0);
  expect(callsOf(failed.refundId, 'sendRefundEmail')[0].input.kind).toBe('REFUND_FAILED');
});

test('a payout refused by the provider or the wallet fails the refund with the reason; the workflow itself completes', async () => {
  for (const [orderId, destination, reason, history] of [
    [DECLINED_BY_PROVIDER, 'ORIGINAL_PAYMENT', 'Charge ch_1 has already been refunded.', 'refund-refused-by-provider'],
    [WALLET_IN_EUROS, 'WALLET', 'The wallet holds EUR; it cannot be credited in USD', undefined],
  ] as const) {
    const { refundId, handle, requested } = await requestRefund({ orderId, destination });
    await requested;
    const answered = await handle.executeUpdate(approveRefundUpdate, { args: [{ adminId: admin.id, reason: 'ok' }] });
    expect(answered).toMatchObject({ status: 'FAILED', failureReason: reason });
    expect(await handle.result()).toMatchObject({ status: 'FAILED', failureReason: reason });
    expect(callsOf(refundId, 'failRefund').map((c) => c.input.reason)).toEqual([reason]);
    expect(callsOf(refundId, 'completeRefund')).toHaveLength(0);
    expect(callsOf(refundId, 'sendRefundEmail').map((c) => c.input.kind)).toEqual(['REFUND_FAILED']);
    if (history) await keepHistory(history, handle);
  }
});

test('the provider failing a refund while its workflow finishes reverses it and tells the admins', async () => {
  const { refundId, handle, requested } = await requestRefund({ orderId: SETTLED_AT_ONCE });
  await requested;
  heldCompletionEmail.refundId = refundId;
  heldCompletionEmail.opened = new Promise<void>((resolve) => (heldCompletionEmail.open = resolve));
  await handle.executeUpdate(approveRefundUpdate, { args: [{ adminId: admin.id, reason: 'ok' }] });
  await eventually(
    async () => callsOf(refundId, 'completeRefund').length === 1 && callsOf(refundId, 'sendRefundEmail').length === 1,
    'completed, email being sent',
  );
  const providerRefundId = (await handle.query(getRefundQuery)).providerRefundId!;
  await handle.signal(refundSettledSignal, {
    refundId,
    providerRefundId,
    outcome: 'FAILED',
    eventId: 'evt_rf_failed',
    failureReason: 'card closed',
  });
  heldCompletionEmail.open!();
  const result = await handle.result();
  expect(result).toMatchObject({
    status: 'FAILED',
    failureReason: `The provider reported refund ${providerRefundId} failed after it was completed (card closed)`,
  });
  expect(callsOf(refundId, 'reverseCompletedRefund')).toHaveLength(1);
  expect(callsOf(`refund-reversed-${refundId}`, 'alertAdmins').map((c) => c.input.subject)).toEqual([
    `Refund ${refundId} failed after completion: the customer has not been paid back`,
  ]);
  expect(result.timeline.map((t) => t.event)).toContain('REFUND_REVERSED');
  await keepHistory('refund-failed-while-finishing', handle);
});

test('reject: REJECTED, the customer told, no money moves', async () => {
  const { refundId, handle, requested } = await requestRefund();
  await requested;
  expect(
    await handle.executeUpdate(rejectRefundUpdate, { args: [{ adminId: admin.id, reason: 'used item' }] }),
  ).toMatchObject({ status: 'REJECTED', decisionReason: 'used item' });
  await handle.result();
  expect(callsOf(refundId, 'sendRefundEmail')[0].input.kind).toBe('REFUND_REJECTED');
  expect(
    callsOf(refundId).some((c) => ['createProviderRefund', 'creditRefundToWallet', 'completeRefund'].includes(c.name)),
  ).toBe(false);
  await keepHistory('refund-rejected', handle);
});

test('decisions at once from two admins and the Web UI: the first wins, each effect once', async () => {
  const { refundId, handle, requested } = await requestRefund({ destination: 'WALLET' });
  await requested;
  const results = await Promise.allSettled([
    handle.executeUpdate(approveRefundUpdate, { args: [{ adminId: admin.id, reason: 'a' }] }),
    handle.executeUpdate(rejectRefundUpdate, { args: [{ adminId: otherAdmin.id, reason: 'b' }] }),
    handle.signal(approveRefundSignal, { adminId: otherAdmin.id, reason: 'c' }),
  ]);
  // Whichever came first won (the Web UI's signal may); every other decision was refused.
  const updates = results.slice(0, 2);
  expect(updates.filter((r) => r.status === 'fulfilled').length).toBeLessThanOrEqual(1);
  for (const refused of updates.filter((r): r is PromiseRejectedResult => r.status === 'rejected')) {
    expect(((refused.reason as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe(
      'REFUND_ALREADY_DECIDED',
    );
  }
  const final = await handle.result();
  expect([admin.id, otherAdmin.id]).toContain(final.decidedBy);
  expect(callsOf(refundId, 'recordRefundDecision')).toHaveLength(1);
  expect(
    callsOf(refundId, 'creditRefundToWallet').length +
      callsOf(refundId, 'sendRefundEmail').filter((c) => c.input.kind === 'REFUND_REJECTED').length,
  ).toBe(1);
});

test('who may decide: not the admin who asked, not a non-admin from the Web UI', async () => {
  const { refundId, handle, requested } = await requestRefund({ requestedBy: admin, destination: 'WALLET' });
  await requested;
  expect(
    (await updateRefusal(handle.executeUpdate(approveRefundUpdate, { args: [{ adminId: admin.id, reason: 'mine' }] })))
      .type,
  ).toBe('SELF_APPROVAL');
  expect(
    (
      await updateRefusal(
        handle.executeUpdate(approveRefundUpdate, { args: [{ adminId: otherAdmin.id, reason: ' ' }] }),
      )
    ).type,
  ).toBe('VALIDATION_ERROR');
  await handle.signal(approveRefundSignal, { adminId: customer.id, reason: 'typed into the UI' });
  const view = await until(handle, (r) => r.timeline.some((t) => t.event === 'DECISION_REFUSED'), 'refused');
  expect(view.status).toBe('PENDING_APPROVAL');
  // The requesting admin typing their own id into the Web UI is refused the same way.
  await handle.signal(approveRefundSignal, { adminId: admin.id, reason: 'my own, from the UI' });
  const selfRefused = await until(
    handle,
    (r) => r.timeline.filter((t) => t.event === 'DECISION_REFUSED').length === 2,
    'self-approval refused',
  );
  expect(selfRefused.timeline.at(-1)).toMatchObject({
    actor: { id: admin.id },
    detail: expect.stringContaining('cannot decide it'),
  });
  expect(selfRefused.status).toBe('PENDING_APPROVAL');
  expect(
    await handle.executeUpdate(approveRefundUpdate, { args: [{ adminId: otherAdmin.id, reason: 'checked' }] }),
  ).toMatchObject({ decidedBy: otherAdmin.id });
  await handle.result();
  expect(callsOf(refundId, 'recordRefundDecision')).toHaveLength(1);
});

test('admins are reminded while no one decides; the request never lapses', async () => {
  const { refundId, handle, requested } = await requestRefund({ reminderAfterMs: 200 });
  await requested;
  await eventually(async () => callsOf(refundId, 'sendRefundReminder').length >= 2, 'two reminders');
  expect(
    callsOf(refundId, 'sendRefundReminder')
      .slice(0, 2)
      .map((c) => c.input.reminder),
  ).toEqual([1, 2]);
  expect((await handle.query(getRefundQuery)).status).toBe('PENDING_APPROVAL');
  await handle.executeUpdate(rejectRefundUpdate, { args: [{ adminId: admin.id, reason: 'finally' }] });
  await handle.result();
});

test('trusted customers are approved by policy; manual refunds by the admin making them', async () => {
  const trusted = await requestRefund({ requestedBy: { id: TRUSTED, role: 'CUSTOMER' }, destination: 'WALLET' });
  await trusted.requested;
  expect(await trusted.handle.result()).toMatchObject({ status: 'COMPLETED', decidedBy: 'policy:trusted-customer' });
  expect(callsOf(trusted.refundId).map((c) => c.name)).not.toContain('activeAdminNamed');
  await keepHistory('refund-trusted-customer', trusted.handle);

  // With the policy switched off (REFUND_AUTO_APPROVE_TRUSTED=false) the same customer waits for a person.
  const unpoliced = await requestRefund({
    requestedBy: { id: TRUSTED, role: 'CUSTOMER' },
    destination: 'WALLET',
    autoApproveTrusted: false,
  });
  await unpoliced.requested;
  expect(await unpoliced.handle.query(getRefundQuery)).toMatchObject({ status: 'PENDING_APPROVAL' });
  expect(callsOf(unpoliced.refundId, 'isTrustedCustomer')).toHaveLength(0);
  await unpoliced.handle.executeUpdate(approveRefundUpdate, {
    args: [{ adminId: admin.id, reason: 'checked by hand' }],
  });
  expect(await unpoliced.handle.result()).toMatchObject({ status: 'COMPLETED', decidedBy: admin.id });

  const manual = await requestRefund({ requestedBy: admin, approvedBy: admin, destination: 'WALLET', amount: 1200 });
  expect(await manual.requested).toMatchObject({ status: 'COMPLETED', walletCredited: 1200, decidedBy: admin.id });
  expect(callsOf(manual.refundId, 'isTrustedCustomer')).toHaveLength(0);
});

test('a request the order cannot take is refused with the reason, and nothing else happens', async () => {
  const { refundId, handle, requested } = await requestRefund({ orderId: FULLY_REFUNDED_ORDER });
  const refused = await updateRefusal(requested);
  expect(refused).toMatchObject({
    type: 'REFUND_ALREADY_PROCESSED',
    message: 'Refund already processed for this order',
  });
  expect((await handle.result()).status).toBe('REFUSED');
  expect(callsOf(refundId).map((c) => c.name)).toEqual(['openRefund']);
});

test('a refund approved while its order is disputed is held; the admin cancels it', async () => {
  const { refundId, handle, requested } = await requestRefund({
    orderId: HELD_FOR_DISPUTE,
    destination: 'WALLET',
    requestedBy: admin,
    approvedBy: admin,
  });
  expect(await requested).toMatchObject({ status: 'APPROVED', heldFor: 'dp_held' });
  const stranger = await updateRefusal(
    handle.executeUpdate(decideHeldRefundUpdate, { args: [{ adminId: randomUUID(), reason: 'x', release: true }] }),
  );
  expect(stranger.type).toBe('NOT_AN_ADMIN');
  const cancelled = await handle.executeUpdate(decideHeldRefundUpdate, {
    args: [{ adminId: otherAdmin.id, reason: 'the bank is refunding it', release: false }],
  });
  expect(cancelled).toMatchObject({
    status: 'FAILED',
    failureReason: 'cancelled while disputed: the bank is refunding it',
  });
  await handle.result();
  expect(callsOf(refundId, 'creditRefundToWallet')).toHaveLength(0);
  expect(callsOf(refundId, 'failRefund')).toHaveLength(1);
  // (refund-held-for-dispute-cancelled.json was recorded before refund-one-admin-check: it replays isAdmin.)
  await keepHistory('refund-held-for-dispute-cancelled-one-admin-check', handle);
});

/** A manual wallet refund of an order whose payment is disputed: approved, then held. */
async function heldRefund() {
  const held = await requestRefund({
    orderId: HELD_FOR_DISPUTE,
    destination: 'WALLET',
    requestedBy: admin,
    approvedBy: admin,
  });
  expect(await held.requested).toMatchObject({ status: 'APPROVED', heldFor: 'dp_held' });
  return held;
}

test('a held refund released by an update typed into Temporal is checked, recorded under the resolved admin and audited by the workflow as sent through Temporal', async () => {
  const { refundId, handle } = await heldRefund();
  const stranger = randomUUID();
  const refused = await updateRefusal(
    handle.executeUpdate(decideHeldRefundUpdate, { args: [{ adminId: stranger, reason: 'typed', release: true }] }),
  );
  expect({ type: refused.type, message: refused.message }).toEqual({
    type: 'NOT_AN_ADMIN',
    message: `${stranger} is not an active admin`,
  });
  expect(callsOf(refundId, 'recordHeldRefundDecision')).toHaveLength(0);
  expect(callsOf(refundId, 'creditRefundToWallet')).toHaveLength(0);

  // `temporal workflow update execute --name decideHeldRefund`: an email, a seal that is not the API's.
  const named = `${otherAdmin.id}@EXAMPLE.test`;
  const released = await handle.executeUpdate(decideHeldRefundUpdate, {
    args: [{ adminId: named, reason: 'the customer withdrew the dispute', release: true, apiSeal: 'local-1.forged' }],
  });
  expect(released).toMatchObject({ status: 'COMPLETED', walletCredited: 5000, holdDecisionAudited: true });
  expect(released.heldFor).toBeUndefined();
  await handle.result();
  expect(callsOf(refundId, 'activeAdminNamed').map((c) => c.input)).toEqual([
    {
      workflowId: handle.workflowId,
      update: 'decideHeldRefund',
      request: { adminId: stranger, reason: 'typed', release: true },
    },
    {
      workflowId: handle.workflowId,
      update: 'decideHeldRefund',
      request: {
        adminId: named,
        reason: 'the customer withdrew the dispute',
        release: true,
        apiSeal: 'local-1.forged',
      },
    },
  ]);
  expect(callsOf(refundId, 'recordHeldRefundDecision').map((c) => c.input)).toEqual([
    {
      refundId,
      release: true,
      adminId: otherAdmin.id,
      named,
      reason: 'the customer withdrew the dispute',
      heldFor: 'dp_held',
      via: 'temporal-update',
    },
  ]);
  const timeline = (await handle.query(getRefundQuery)).timeline;
  expect(timeline.find((t) => t.event === 'HOLD_DECISION_REFUSED')).toMatchObject({ actor: { id: stranger } });
  expect(timeline.find((t) => t.event === 'REFUND_RELEASED')).toMatchObject({
    actor: { id: otherAdmin.id, role: 'ADMIN' },
    detail: 'the customer withdrew the dispute',
  });
  await keepHistory('refund-held-released-through-temporal-update', handle);
});

test("a held refund's decision sealed by the API is audited by the workflow as the API's; one sent as a signal from the Web UI as sent through Temporal", async () => {
  const sealed = await heldRefund();
  const cancelled = await sealed.handle.executeUpdate(decideHeldRefundUpdate, {
    args: [{ adminId: otherAdmin.id, reason: 'the bank refunds it', release: false, apiSeal: API_SEAL }],
  });
  expect(cancelled).toMatchObject({ status: 'FAILED', holdDecisionAudited: true });
  expect(callsOf(sealed.refundId, 'recordHeldRefundDecision').map((c) => c.input)).toEqual([
    expect.objectContaining({ release: false, adminId: otherAdmin.id, via: 'api' }),
  ]);

  const signalled = await heldRefund();
  await signalled.handle.signal(decideHeldRefundSignal, {
    adminId: `${otherAdmin.id}@example.test`,
    reason: 'released from the Web UI',
    release: true,
  });
  expect(await signalled.handle.result()).toMatchObject({ status: 'COMPLETED', holdDecisionAudited: true });
  expect(callsOf(signalled.refundId, 'recordHeldRefundDecision').map((c) => c.input)).toEqual([
    expect.objectContaining({
      release: true,
      adminId: otherAdmin.id,
      named: `${otherAdmin.id}@example.test`,
      via: 'temporal-signal',
    }),
  ]);
  await keepHistory('refund-held-released-by-signal', signalled.handle);
});
