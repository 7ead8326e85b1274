/**
 * Where the time goes: per-step latency read back from the order workflows' own histories
 * (workflow task and activity schedule-to-start, activity run time), CPU seconds of each
 * process from /proc (PostgreSQL's processes summed), resident memory, and PostgreSQL's own time per order
 * (pg_stat_database.active_time, the time its backends spent running statements).
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { percentile } from './load';

const EventType = temporal.api.enums.v1.EventType;

/** Resident memory of a process, in MiB (Linux /proc). */
export function rssMiB(pid: number | undefined): number | undefined {
  try {
    const kib = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Number.isFinite(kib) ? Math.round(kib / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** A gauge from a process's Prometheus text (`name`, its first sample), in MiB; undefined when unreadable or 0 (not measured yet). */
export async function metricMiB(metricsUrl: string, name: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) })).text();
    const bytes = Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1]);
    return Number.isFinite(bytes) && bytes > 0 ? Math.round(bytes / 1024 / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds used so far by every PostgreSQL process on this host, its backends included (the
 * bench's database server is local). A backend that exits during a run takes its CPU with it, so
 * this can only undercount; the Prisma pools keep theirs open.
 */
export function postgresCpuSeconds(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === 'postgres')
        total += cpuSeconds(Number(entry)) ?? 0;
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

/** Milliseconds PostgreSQL's backends have spent running statements in `database` so far. */
export async function databaseActiveMs(databaseUrl: string): Promise<number | undefined> {
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    const { rows } = await client.query<{ active_time: number | null }>(
      'SELECT active_time FROM pg_stat_database WHERE datname = current_database()',
    );
    return rows[0]?.active_time ?? undefined;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

/** Per-step latency over the histories of `workflowIds`: one line per step, p50 / p95 in ms. */
export async function stepLatencies(client: Client, workflowIds: string[]): Promise<string[]> {
  const steps = new Map<string, number[]>();
  const add = (step: string, value: number) => steps.set(step, [...(steps.get(step) ?? []), value]);
  for (const workflowId of workflowIds) {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const byId = new Map<string, { type: number; time: number; activity?: string }>();
    for (const event of history.events ?? []) {
      const id = String(event.eventId);
      const time = ms(event.eventTime);
      const type = event.eventType ?? 0;
      if (type === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
        byId.set(id, { type, time, activity: event.activityTaskScheduledEventAttributes?.activityType?.name ?? '?' });
      } else if (type === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
        const scheduled = byId.get(String(event.activityTaskStartedEventAttributes?.scheduledEventId));
        if (scheduled) add(`activity ${scheduled.activity}: schedule-to-start`, time - scheduled.time);
        byId.set(id, { type, time, activity: scheduled?.activity });
      } else if (type === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
        const started = byId.get(String(event.activityTaskCompletedEventAttributes?.startedEventId));
        if (started) add(`activity ${started.activity}: run`, time - started.time);
      } else if (type === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED) {
        byId.set(id, { type, time });
      } else if (type === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED) {
        const scheduled = byId.get(String(event.workflowTaskStartedEventAttributes?.scheduledEventId));
        if (scheduled) add('workflow task: schedule-to-start', time - scheduled.time);
        byId.set(id, { type, time });
      } else if (type === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) {
        const started = byId.get(String(event.workflowTaskCompletedEventAttributes?.startedEventId));
        if (started) add('workflow task: run', time - started.time);
      }
    }
  }
  return [...steps]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([step, values]) => {
      const p = (q: number) => percentile(values, q)!.toFixed(0).padStart(5);
      return `  ${step.padEnd(58)} p50 ${p(50)} ms  p95 ${p(95)} ms  (${values.length})`;
    });
}
