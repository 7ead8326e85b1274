/**
 * The price schedule workflow's logic against the real Temporal dev server, with stubbed
 * activities: a sale applied at its start and ended at its end (timers), a change for good, an
 * admin's cancel before the start and during the sale (update with validator), and the workflow
 * itself cancelled during a sale. With RECORD_HISTORIES=1 scenarios write their histories for
 * replay.test.ts.
 */
import { randomUUID } from 'node:crypto';
import type { priceScheduleWorkflow } from '../../src/workflows/price-schedule/workflow';
import { cancelPriceScheduleUpdate, getPriceScheduleProgressQuery } from '../../src/workflows/price-schedule/messages';
import type { Actor } from '../../src/workflows/vocabulary';
import { priceScheduleWorkflowId } from '../../src/workflows/ids';
import { eventually } from '../helpers/stack';
import { keepHistory, recording, useStubWorker, updateRefusal } from '../helpers/workflow-worker';

const admin: Actor = { id: randomUUID(), role: 'ADMIN' };
const forGood = new Set<string>();
/** Ends that wait until the test lets them finish (to cancel while one is running). */
const heldEnds = new Map<string, () => void>();

const stubs = {
  async applyPriceSchedule(input: { scheduleId: string }) {
    return { status: forGood.has(input.scheduleId) ? 'COMPLETED' : 'ACTIVE' };
  },
  async endPriceSchedule(input: { scheduleId: string; cancel?: unknown }) {
    if (heldEnds.has(input.scheduleId)) await new Promise<void>((resolve) => heldEnds.set(input.scheduleId, resolve));
    return { status: input.cancel ? 'CANCELLED' : 'COMPLETED' };
  },
};

const { wrapped, callsOf } = recording(stubs, (input) => String(input.scheduleId));

const worker = useStubWorker(wrapped);

const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();

function start(scheduleId: string, startsAt: string, endsAt?: string) {
  return worker.client.workflow.start<typeof priceScheduleWorkflow>('priceScheduleWorkflow', {
    workflowId: priceScheduleWorkflowId(scheduleId),
    taskQueue: worker.taskQueue,
    args: [{ scheduleId, startsAt, endsAt: endsAt ?? null }],
  });
}

test('a sale sleeps until its start, applies, sleeps until its end and ends, as the system', async () => {
  const scheduleId = randomUUID();
  const startsAt = inMs(1_000);
  const endsAt = inMs(4_000);
  const handle = await start(scheduleId, startsAt, endsAt);
  expect(await handle.query(getPriceScheduleProgressQuery)).toEqual({ status: 'SCHEDULED', cancelRequested: false });
  expect(await handle.result()).toBe('COMPLETED');
  expect(callsOf(scheduleId).map((c) => c.name)).toEqual(['applyPriceSchedule', 'endPriceSchedule']);
  expect(callsOf(scheduleId, 'endPriceSchedule')[0].input).toEqual({
    scheduleId,
    workflowId: handle.workflowId,
  });
  // The timers: two of them, the start and the end.
  const { events } = await handle.fetchHistory();
  expect(events!.filter((e) => e.timerStartedEventAttributes)).toHaveLength(2);
  await keepHistory('price-schedule-sale-ended', handle);
});

test('a change for good completes at its start; nothing is restored', async () => {
  const scheduleId = randomUUID();
  forGood.add(scheduleId);
  const handle = await start(scheduleId, inMs(500));
  expect(await handle.result()).toBe('COMPLETED');
  expect(callsOf(scheduleId).map((c) => c.name)).toEqual(['applyPriceSchedule']);
  await keepHistory('price-schedule-for-good', handle);
});

test("an admin's cancel before the start applies nothing; the validator refuses a cancel without a reason", async () => {
  const scheduleId = randomUUID();
  const handle = await start(scheduleId, inMs(3_600_000), inMs(7_200_000));
  const refusal = await updateRefusal(
    handle.executeUpdate(cancelPriceScheduleUpdate, { args: [{ actor: admin, reason: ' ' }] }),
  );
  expect(refusal.type).toBe('VALIDATION_ERROR');
  expect(
    await handle.executeUpdate(cancelPriceScheduleUpdate, { args: [{ actor: admin, reason: 'Campaign dropped' }] }),
  ).toEqual({ status: 'CANCELLED' });
  expect(await handle.result()).toBe('CANCELLED');
  expect(callsOf(scheduleId).map((c) => c.name)).toEqual(['endPriceSchedule']);
  expect(callsOf(scheduleId)[0].input).toMatchObject({ cancel: { actorId: admin.id, reason: 'Campaign dropped' } });
  await keepHistory('price-schedule-cancelled-before-start', handle);
});

test("an admin's cancel during the sale ends it at once; a second cancel meanwhile is refused", async () => {
  const scheduleId = randomUUID();
  heldEnds.set(scheduleId, () => undefined);
  const handle = await start(scheduleId, inMs(300), inMs(3_600_000));
  await eventually(async () => (await handle.query(getPriceScheduleProgressQuery)).status === 'ACTIVE', 'sale active');
  const cancelled = handle.executeUpdate(cancelPriceScheduleUpdate, {
    args: [{ actor: admin, reason: 'Supplier raised its price' }],
  });
  await eventually(async () => callsOf(scheduleId, 'endPriceSchedule').length === 1, 'end running');
  const second = await updateRefusal(
    handle.executeUpdate(cancelPriceScheduleUpdate, { args: [{ actor: admin, reason: 'again' }] }),
  );
  expect(second.type).toBe('INVALID_PRICE_SCHEDULE_STATE');
  heldEnds.get(scheduleId)!();
  expect(await cancelled).toEqual({ status: 'CANCELLED' });
  expect(await handle.result()).toBe('CANCELLED');
  expect(callsOf(scheduleId, 'endPriceSchedule')[0].input).toMatchObject({
    cancel: { actorId: admin.id, reason: 'Supplier raised its price' },
  });
  await keepHistory('price-schedule-cancelled-during-sale', handle);
});

test('cancelling the workflow itself during a sale ends the sale as the system', async () => {
  const scheduleId = randomUUID();
  const handle = await start(scheduleId, inMs(300), inMs(3_600_000));
  await eventually(async () => (await handle.query(getPriceScheduleProgressQuery)).status === 'ACTIVE', 'sale active');
  await handle.cancel();
  expect(await handle.result()).toBe('CANCELLED');
  expect(callsOf(scheduleId, 'endPriceSchedule')[0].input).toMatchObject({ cancel: { actorId: 'system' } });
  await keepHistory('price-schedule-workflow-cancelled', handle);
});
