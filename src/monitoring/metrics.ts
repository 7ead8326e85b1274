/**
 * The one Prometheus registry of a process (API or worker), with every metric DESIGN.md names.
 * Code that counts something imports the metric from here; GET /metrics renders `registry`.
 *
 * Adding a metric:
 * - a counter or histogram moved by code: declare it below with `registers: [registry]` and
 *   export it; count where the thing happens, after its transaction committed (never something
 *   that did not happen; an activity retried after committing may count it again);
 * - a gauge read from the database at scrape time (open disputes, pending refunds): call
 *   `databaseGauge({ name, help, labelNames, read })` here; `read(prisma)` answers the samples.
 *   It runs only in a process that called `bindDatabase` (both do), at most once per scrape.
 * Names follow `durable_commerce_<noun>_<unit or total>`; labels stay low-cardinality (no ids).
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import client from 'prom-client';
import type { PrismaClient } from '../platform/db';

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry }); // process memory, CPU, event loop lag

/**
 * What the process keeps: the V8 heap in use shortly after its last full collection (read when
 * Node reports the collection). RSS and `nodejs_heap_size_used_bytes` follow the collector's
 * sawtooth (an API read between 324 and 431 MiB of RSS from one thousand orders to the next, with
 * no trend); this one moves only with what survives a full collection, so a leak shows as a line
 * going up. It reads 0 until the first full collection.
 */
const liveHeap = new client.Gauge({
  name: 'durable_commerce_heap_live_bytes',
  help: 'V8 heap in use shortly after the last full (mark-sweep-compact) garbage collection',
  registers: [registry],
});
new PerformanceObserver((entries) => {
  const full = entries
    .getEntries()
    .some((entry) => (entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
  if (full) liveHeap.set(getHeapStatistics().used_heap_size);
}).observe({ entryTypes: ['gc'] });

export const httpRequestDuration = new client.Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP request duration by method, route template and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
  registers: [registry],
});

export const webhookEvents = new client.Counter({
  name: 'durable_commerce_webhook_events_total',
  help: 'Webhook deliveries by provider and outcome: received, duplicate (API); processed, failed (worker)',
  labelNames: ['provider', 'outcome'] as const,
  registers: [registry],
});

export const webhookRejections = new client.Counter({
  name: 'durable_commerce_webhook_rejections_total',
  help: 'Webhook deliveries refused before storage, by provider and reason (INVALID_SIGNATURE, ...)',
  labelNames: ['provider', 'reason'] as const,
  registers: [registry],
});

export const paymentAttempts = new client.Counter({
  name: 'durable_commerce_payment_attempts_total',
  help: 'Payment attempts by provider and outcome: opened, succeeded, failed',
  labelNames: ['provider', 'outcome'] as const,
  registers: [registry],
});

export const reservationExpiries = new client.Counter({
  name: 'durable_commerce_reservation_expiries_total',
  help: 'Orders cancelled because their stock reservation expired unpaid',
  registers: [registry],
});

export const unexpectedPaymentRefunds = new client.Counter({
  name: 'durable_commerce_unexpected_payment_refunds_total',
  help: 'Payments refunded automatically because the order no longer expected them, by provider',
  labelNames: ['provider'] as const,
  registers: [registry],
});

/** pg pool numbers at scrape time: active (checked out), idle, waiting (queued for one), max. */
export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

let database: PrismaClient | undefined;
const pools: (() => PoolStats)[] = [];

/**
 * Lets the database gauges read through `prisma`, and reports `pool` under
 * durable_commerce_db_connections. Answers a function that undoes it (tests run several stacks).
 */
export function bindDatabase(prisma: PrismaClient, pool?: { stats(): PoolStats }): () => void {
  database = prisma;
  const stats = pool ? () => pool.stats() : undefined;
  if (stats) pools.push(stats);
  return () => {
    if (database === prisma) database = undefined;
    if (stats) pools.splice(pools.indexOf(stats), 1);
  };
}

new client.Gauge({
  name: 'durable_commerce_db_connections',
  help: 'Database pool connections by state (active, idle, waiting, max)',
  labelNames: ['state'] as const,
  registers: [registry],
  collect() {
    const sum = (key: keyof PoolStats) => pools.reduce((total, stats) => total + stats()[key], 0);
    this.set({ state: 'active' }, sum('total') - sum('idle'));
    this.set({ state: 'idle' }, sum('idle'));
    this.set({ state: 'waiting' }, sum('waiting'));
    this.set({ state: 'max' }, sum('max'));
  },
});

type Labels = Record<string, string>;

/** A gauge whose samples `read` answers from the database at each scrape; a failed read leaves it empty. */
export function databaseGauge(spec: {
  name: string;
  help: string;
  labelNames?: string[];
  read: (prisma: PrismaClient) => Promise<{ labels?: Labels; value: number }[]>;
}): client.Gauge {
  return new client.Gauge({
    name: spec.name,
    help: spec.help,
    labelNames: spec.labelNames ?? [],
    registers: [registry],
    async collect() {
      this.reset();
      if (!database) return;
      try {
        for (const sample of await spec.read(database)) this.set(sample.labels ?? {}, sample.value);
      } catch {
        // The database is down: the gauge is absent this scrape, and /readyz says why.
      }
    },
  });
}

databaseGauge({
  name: 'durable_commerce_refunds_pending',
  help: 'Refunds not yet finished, by status (PENDING_APPROVAL, APPROVED: approved, money not yet back)',
  labelNames: ['status'],
  read: async (prisma) =>
    (
      await prisma.refund.groupBy({
        by: ['status'],
        where: { status: { in: ['PENDING_APPROVAL', 'APPROVED'] } },
        _count: { _all: true },
      })
    ).map((group) => ({ labels: { status: group.status }, value: group._count._all })),
});

databaseGauge({
  name: 'durable_commerce_refunds_pending_oldest_age_seconds',
  help: 'Age of the oldest refund waiting for an admin decision (0 when none waits)',
  read: async (prisma) => {
    const oldest = await prisma.refund.findFirst({
      where: { status: 'PENDING_APPROVAL' },
      orderBy: { createdAt: 'asc' },
      select: { createdAt: true },
    });
    return [{ value: oldest ? (Date.now() - oldest.createdAt.getTime()) / 1000 : 0 }];
  },
});

databaseGauge({
  name: 'durable_commerce_disputes_open',
  help: 'Provider disputes (chargebacks) not yet decided, by provider (see GET /admin/disputes?status=OPEN)',
  labelNames: ['provider'],
  read: async (prisma) => {
    const groups = await prisma.dispute.groupBy({
      by: ['provider'],
      where: { status: 'OPEN' },
      _count: { _all: true },
    });
    // Both providers always have a sample: 0 is news too (an alert resolves on it).
    return (['STRIPE', 'RAZORPAY'] as const).map((provider) => ({
      labels: { provider },
      value: groups.find((g) => g.provider === provider)?._count._all ?? 0,
    }));
  },
});

/** How far ahead a dispute's evidence deadline counts as close (the gauge's name says 48 h). */
export const DISPUTE_DEADLINE_HORIZON_MS = 48 * 3600_000;

/** Open disputes whose evidence is still owed and due between now and `horizonMs` from now. */
export function disputesDueSoon(prisma: PrismaClient, horizonMs = DISPUTE_DEADLINE_HORIZON_MS) {
  const now = Date.now();
  return prisma.dispute.count({
    where: {
      status: 'OPEN',
      evidenceSubmittedAt: null,
      evidenceDueBy: { gte: new Date(now), lte: new Date(now + horizonMs) },
    },
  });
}

databaseGauge({
  name: 'durable_commerce_dispute_deadlines_within_48h',
  help: 'Open disputes whose evidence is not submitted yet and is due within 48 hours',
  read: async (prisma) => [{ value: await disputesDueSoon(prisma) }],
});

/** Renders the registry, plus `extra` text (the Temporal SDK's own metrics on the worker). */
export async function metricsText(extra = ''): Promise<string> {
  const own = await registry.metrics();
  return extra ? `${own}\n${extra}` : own;
}
