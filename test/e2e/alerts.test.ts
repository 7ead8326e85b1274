/**
 * Business alerts through the real parts: the alert Schedule (every second here) evaluates the
 * rules; a burst of forged Stripe signatures opens webhook_signature_failures once, emails the
 * admin once, shows in GET /admin/alerts?status=open and on /metrics, and resolves once the
 * window has passed without more, emailing once more; later evaluations send nothing.
 */
import { ensureAlertSchedule } from '../../src/monitoring/alert-schedule';
import { sample, scrape } from '../helpers/metrics';
import { createUser, eventually, mailsTo, useStack } from '../helpers/stack';
import { deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';

// A database of its own: the rules count across whole tables.
const { stack, admin, beforeStop } = useStack({
  isolatedDatabase: true,
  env: { ALERT_EVALUATION_INTERVAL: '1s', ALERT_WINDOW: '5s', ALERT_MIN_SAMPLE: '5' },
});
let scheduleId: string;
beforeAll(async () => {
  scheduleId = await ensureAlertSchedule(stack.temporal, stack.config);
});
beforeStop(() => stack.temporal.schedule.getHandle(scheduleId).delete());

/** Resolves once `count` more evaluations than now have run to completion. */
async function evaluations(count: number): Promise<void> {
  const handle = stack.temporal.schedule.getHandle(scheduleId);
  const target = (await handle.describe()).info.numActionsTaken + count;
  const described = await eventually(async () => {
    const d = await handle.describe();
    return d.info.numActionsTaken >= target && d;
  }, `${count} more evaluations`);
  const latest = described.info.recentActions.at(-1)!.action.workflow.workflowId;
  await stack.temporal.workflow.getHandle(latest).result();
}

const alertsWith = async (status: string) =>
  (await stack.http.get(`/admin/alerts?status=${status}`, admin.token)).body.alerts as {
    key: string;
    opening: number;
    status: string;
  }[];

test('a burst of bad signatures opens the alert once, one email; it resolves once, one email', async () => {
  await evaluations(1);
  expect(await alertsWith('open')).toEqual([]);

  const forged = paymentIntentEvent('payment_intent.succeeded', {
    id: 'pi_forged',
    orderId: '00000000-0000-4000-8000-000000000000',
    amount: 100,
    currency: 'usd',
  });
  for (let i = 0; i < 8; i += 1)
    expect((await deliverStripeEvent(stack, forged, { secret: 'whsec_forged' })).status).toBe(400);

  const [open] = await eventually(async () => {
    const listed = await alertsWith('open');
    return listed.length > 0 && listed;
  }, 'alert open');
  expect(open).toMatchObject({ key: 'webhook_signature_failures', opening: 1, status: 'OPEN', severity: 'critical' });
  expect(
    sample(await scrape(`${stack.http.baseUrl}/metrics`), 'durable_commerce_alerts_open', {
      alert: 'webhook_signature_failures',
    }),
  ).toBe(1);
  const opened = () => mailsTo(stack, admin.email, 'webhook_signature_failures opened');
  await eventually(async () => opened().length > 0, 'opening email');
  await evaluations(2);
  expect(opened()).toHaveLength(1);
  expect(opened()[0].subject).toBe('[CRITICAL] Alert webhook_signature_failures opened');

  const [resolved] = await eventually(async () => {
    const listed = await alertsWith('resolved');
    return listed.length > 0 && listed;
  }, 'alert resolved');
  expect(resolved).toMatchObject({ key: 'webhook_signature_failures', opening: 1, status: 'RESOLVED' });
  const resolvedMails = () => mailsTo(stack, admin.email, 'webhook_signature_failures resolved');
  await eventually(async () => resolvedMails().length > 0, 'resolution email');
  await evaluations(2);
  expect(opened()).toHaveLength(1);
  expect(resolvedMails()).toHaveLength(1);
  expect(await alertsWith('open')).toEqual([]);
  expect(await stack.prisma.alert.count()).toBe(1);
  const audited = await stack.prisma.auditLog.findFirst({ where: { action: 'ALERTS_LISTED', actorId: admin.id } });
  expect(audited).not.toBeNull();
});

test('GET /admin/alerts: admins only, a bad status is 400', async () => {
  const customer = await createUser(stack);
  expect((await stack.http.get('/admin/alerts', customer.token)).status).toBe(403);
  expect((await stack.http.get('/admin/alerts')).status).toBe(401);
  const bad = await stack.http.get('/admin/alerts?status=maybe', admin.token);
  expect(bad.status).toBe(400);
  expect(bad.body.error.code).toBe('VALIDATION_ERROR');
});
