/**
 * The business alerts that need the database (the runbooks' thresholds Prometheus cannot see),
 * evaluated by a Temporal Schedule every ALERT_EVALUATION_INTERVAL (src/workflows/alert-evaluation):
 * each rule measures over ALERT_WINDOW; a rule past its threshold opens its alert once, and the
 * alert resolves once when the rule is back within it. Every opening is a row of `alerts`
 * (unique by key and opening number), so two evaluations at once, or one retried, open nothing
 * twice; admins are emailed at opening and at resolution, each once (by alert key and opening).
 */
import { randomUUID } from 'node:crypto';
import { audit } from '../access/audit';
import type { Config } from '../platform/config';
import type { PrismaClient } from '../platform/db';
import { isUniqueViolation } from '../platform/db';
import { databaseGauge, disputesDueSoon } from './metrics';

export type AlertConfig = Pick<
  Config,
  | 'ALERT_WINDOW'
  | 'ALERT_MIN_SAMPLE'
  | 'REFUND_REMINDER_AFTER'
  | 'ALERT_ORDER_STUCK_PAID_AFTER'
  | 'ALERT_WEBHOOK_STUCK_PENDING_AFTER'
>;

interface Measurement {
  /** Past its threshold now (false also when too few events to judge a rate). */
  firing: boolean;
  severity: 'warning' | 'critical';
  value: number;
  threshold: number;
  summary: string;
}

interface Rule {
  key: string;
  measure: (prisma: PrismaClient, config: AlertConfig, since: Date) => Promise<Measurement>;
}

const percent = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10_000) / 100 : 0);
const ago = (ms: number) => new Date(Date.now() - ms);
const minutes = (ms: number) => `${Math.round(ms / 6000) / 10} min`;

/** The rules, with the runbooks' thresholds (issues 16 and 19; the same as deploy/prometheus/alerts.yml). */
export const rules: Rule[] = [
  {
    key: 'webhook_failure_rate',
    async measure(prisma, config, since) {
      const groups = await prisma.webhookEvent.groupBy({
        by: ['status'],
        where: { receivedAt: { gte: since } },
        _count: { _all: true },
      });
      const total = groups.reduce((sum, g) => sum + g._count._all, 0);
      const failed = groups.find((g) => g.status === 'FAILED')?._count._all ?? 0;
      const value = percent(failed, total);
      return {
        firing: total >= config.ALERT_MIN_SAMPLE && value > 1,
        severity: value > 5 ? 'critical' : 'warning',
        value,
        threshold: 1,
        summary: `${failed} of ${total} webhook events failed in the last ${minutes(config.ALERT_WINDOW)} (${value}%, alert above 1%)`,
      };
    },
  },
  {
    key: 'webhook_signature_failures',
    async measure(prisma, config, since) {
      // Refusals are counted per hour; a bucket counts while its latest refusal is within the window.
      const [rejected, accepted] = await Promise.all([
        prisma.webhookRejection.aggregate({
          where: { reason: { in: ['INVALID_SIGNATURE', 'MISSING_SIGNATURE'] }, lastAt: { gte: since } },
          _sum: { count: true },
        }),
        prisma.webhookEvent.count({ where: { receivedAt: { gte: since } } }),
      ]);
      const bad = rejected._sum.count ?? 0;
      const total = bad + accepted;
      const value = percent(bad, total);
      return {
        firing: total >= config.ALERT_MIN_SAMPLE && value > 0.1,
        severity: 'critical',
        value,
        threshold: 0.1,
        summary: `${bad} of ${total} webhook deliveries had a bad or missing signature in the last ${minutes(config.ALERT_WINDOW)} (${value}%, alert above 0.1%): the webhook secret here and in the provider's dashboard may differ, or someone is forging events`,
      };
    },
  },
  {
    key: 'payment_success_low',
    async measure(prisma, config, since) {
      const groups = await prisma.payment.groupBy({
        by: ['status'],
        where: { processedAt: { gte: since }, status: { in: ['SUCCEEDED', 'FAILED'] } },
        _count: { _all: true },
      });
      const succeeded = groups.find((g) => g.status === 'SUCCEEDED')?._count._all ?? 0;
      const total = groups.reduce((sum, g) => sum + g._count._all, 0);
      const value = total > 0 ? percent(succeeded, total) : 100;
      return {
        firing: total >= config.ALERT_MIN_SAMPLE && value < 95,
        severity: value < 90 ? 'critical' : 'warning',
        value,
        threshold: 95,
        summary: `${succeeded} of ${total} payments succeeded in the last ${minutes(config.ALERT_WINDOW)} (${value}%; warning under 95%, critical under 90%)`,
      };
    },
  },
  {
    key: 'refunds_waiting_past_reminder',
    async measure(prisma, config) {
      const waiting = await prisma.refund.count({
        where: { status: 'PENDING_APPROVAL', createdAt: { lt: ago(config.REFUND_REMINDER_AFTER) } },
      });
      return {
        firing: waiting > 0,
        severity: 'warning',
        value: waiting,
        threshold: 0,
        summary: `${waiting} refund(s) have waited for a decision longer than ${minutes(config.REFUND_REMINDER_AFTER)}: GET /admin/refunds?status=PENDING_APPROVAL`,
      };
    },
  },
  {
    key: 'orders_stuck_paid',
    async measure(prisma, config) {
      // PAID lasts only until the order workflow confirms the order: an order still PAID is stuck.
      const stuck = await prisma.order.count({
        where: { status: 'PAID', paidAt: { lt: ago(config.ALERT_ORDER_STUCK_PAID_AFTER) } },
      });
      return {
        firing: stuck > 0,
        severity: 'critical',
        value: stuck,
        threshold: 0,
        summary: `${stuck} order(s) paid more than ${minutes(config.ALERT_ORDER_STUCK_PAID_AFTER)} ago are still not confirmed: is a worker running?`,
      };
    },
  },
  {
    key: 'webhook_events_stuck_pending',
    async measure(prisma, config) {
      const stuck = await prisma.webhookEvent.count({
        where: { status: 'PENDING', receivedAt: { lt: ago(config.ALERT_WEBHOOK_STUCK_PENDING_AFTER) } },
      });
      return {
        firing: stuck > 0,
        severity: 'warning',
        value: stuck,
        threshold: 0,
        summary: `${stuck} webhook event(s) received more than ${minutes(config.ALERT_WEBHOOK_STUCK_PENDING_AFTER)} ago are still PENDING: replay them with POST /admin/webhooks/replay`,
      };
    },
  },
  {
    key: 'dispute_deadline_within_48h',
    async measure(prisma) {
      // Evidence submitted, the dispute decided or the deadline gone by: nothing left to do in time.
      const due = await disputesDueSoon(prisma);
      return {
        firing: due > 0,
        severity: 'critical',
        value: due,
        threshold: 0,
        summary: `${due} open dispute(s) have their evidence due within 48 hours and none submitted: GET /admin/disputes?status=OPEN, then POST /admin/disputes/:id/evidence (or npm run ops -- disputes evidence)`,
      };
    },
  },
];

/** An opening or a resolution whose admins' email has not been confirmed sent yet. */
export interface AlertNotice {
  alertId: string;
  kind: 'OPENED' | 'RESOLVED';
  /** Unique per alert key, opening and kind: the email idempotency key. */
  noticeKey: string;
  subject: string;
  text: string;
}

/**
 * Measures every rule once, opens or resolves alerts accordingly, and answers every notice
 * still owed (those of this evaluation, and any an interrupted evaluation left unsent).
 */
export async function evaluateAlerts(prisma: PrismaClient, config: AlertConfig): Promise<AlertNotice[]> {
  const since = ago(config.ALERT_WINDOW);
  for (const rule of rules) {
    const measured = await rule.measure(prisma, config, since);
    const open = await prisma.alert.findFirst({ where: { key: rule.key, status: 'OPEN' } });
    if (measured.firing && !open) await openAlert(prisma, rule.key, measured);
    else if (measured.firing && open)
      await prisma.alert.update({ where: { id: open.id }, data: { value: measured.value } });
    else if (!measured.firing && open)
      await prisma.alert.updateMany({
        where: { id: open.id, status: 'OPEN' },
        data: { status: 'RESOLVED', resolvedAt: new Date(), value: measured.value },
      });
  }
  return owedNotices(prisma);
}

async function openAlert(prisma: PrismaClient, key: string, measured: Measurement): Promise<void> {
  const latest = await prisma.alert.findFirst({ where: { key }, orderBy: { opening: 'desc' } });
  try {
    await prisma.alert.create({
      data: {
        id: randomUUID(),
        key,
        opening: (latest?.opening ?? 0) + 1,
        severity: measured.severity,
        summary: measured.summary,
        value: measured.value,
        threshold: measured.threshold,
      },
    });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error; // another evaluation opened it in the same moment
  }
}

async function owedNotices(prisma: PrismaClient): Promise<AlertNotice[]> {
  const owed = await prisma.alert.findMany({
    where: { OR: [{ openedNotifiedAt: null }, { status: 'RESOLVED', resolvedNotifiedAt: null }] },
    orderBy: { openedAt: 'asc' },
  });
  const notices: AlertNotice[] = [];
  for (const alert of owed) {
    const name = `${alert.key} #${alert.opening}`;
    if (!alert.openedNotifiedAt)
      notices.push({
        alertId: alert.id,
        kind: 'OPENED',
        noticeKey: `ALERT_OPENED:${alert.key}:${alert.opening}`,
        subject: `[${alert.severity.toUpperCase()}] Alert ${alert.key} opened`,
        text: `Alert ${name} opened at ${alert.openedAt.toISOString()}.\n\n${alert.summary}\n\nOpen alerts: GET /admin/alerts?status=open\n`,
      });
    if (alert.status === 'RESOLVED' && !alert.resolvedNotifiedAt)
      notices.push({
        alertId: alert.id,
        kind: 'RESOLVED',
        noticeKey: `ALERT_RESOLVED:${alert.key}:${alert.opening}`,
        subject: `[RESOLVED] Alert ${alert.key} resolved`,
        text: `Alert ${name}, opened at ${alert.openedAt.toISOString()}, resolved at ${alert.resolvedAt?.toISOString()}.\n\nWhen it opened: ${alert.summary}\n`,
      });
  }
  return notices;
}

/** The admins have been emailed about `notice`: it is owed no more. */
export async function markAlertNotified(
  prisma: PrismaClient,
  notice: Pick<AlertNotice, 'alertId' | 'kind'>,
): Promise<void> {
  await prisma.alert.update({
    where: { id: notice.alertId },
    data: notice.kind === 'OPENED' ? { openedNotifiedAt: new Date() } : { resolvedNotifiedAt: new Date() },
  });
}

/** The business alerts, newest first, optionally only open or only resolved ones; who looked is audited. */
export async function listAlerts(
  prisma: PrismaClient,
  filter: { status?: 'OPEN' | 'RESOLVED'; limit: number },
  actorId: string,
) {
  const alerts = await prisma.alert.findMany({
    where: { status: filter.status },
    orderBy: { openedAt: 'desc' },
    take: filter.limit,
  });
  await audit(prisma, {
    actorId,
    action: 'ALERTS_LISTED',
    targetType: 'alerts',
    after: { filter, count: alerts.length },
  });
  return {
    alerts: alerts.map((a) => ({
      id: a.id,
      key: a.key,
      opening: a.opening,
      status: a.status,
      severity: a.severity,
      summary: a.summary,
      value: a.value,
      threshold: a.threshold,
      openedAt: a.openedAt.toISOString(),
      resolvedAt: a.resolvedAt?.toISOString() ?? null,
    })),
  };
}

databaseGauge({
  name: 'durable_commerce_alerts_open',
  help: 'Business alerts open now (see GET /admin/alerts), by alert key and severity',
  labelNames: ['alert', 'severity'],
  read: async (prisma) =>
    (await prisma.alert.groupBy({ by: ['key', 'severity'], where: { status: 'OPEN' }, _count: { _all: true } })).map(
      (g) => ({ labels: { alert: g.key, severity: g.severity }, value: g._count._all }),
    ),
});
