/**
 * The runbook's "Database connection issues" scripts as audited operations: a diagnosis
 * (connection time, connections by state against the pool and the server's max_connections,
 * long-running queries, lock waits) and the emergency action that terminates queries running
 * past a limit. Only this database's client backends are ever touched, never the caller's own
 * connection, and what was terminated goes into the audit log.
 *
 * Seeing other logins' query text needs the pg_read_all_stats role, and terminating their
 * backends pg_signal_backend (or superuser); without them PostgreSQL hides or refuses, and the
 * answer says so per backend.
 */
import { randomUUID } from 'node:crypto';
import { audit } from '../access/audit';
import type { PrismaClient } from '../platform/db';

/** Query text is cut to this many characters: enough to recognise it, not a data dump. */
const QUERY_TEXT_LIMIT = 300;

export interface BackendQuery {
  pid: number;
  user: string | null;
  application: string | null;
  state: string | null;
  durationSeconds: number;
  waitEventType: string | null;
  query: string | null;
}

export interface LockWait extends BackendQuery {
  blockedBy: number[];
}

export interface DatabaseDiagnosis {
  database: string;
  connectionMs: number;
  connections: {
    byState: Record<string, number>;
    total: number;
    /** Every client connection on the server, all databases. */
    serverTotal: number;
    maxConnections: number;
    /** Connections this process may hold (DATABASE_POOL_SIZE). */
    poolSize: number;
  };
  longQueries: BackendQuery[];
  lockWaits: LockWait[];
  longerThanSeconds: number;
}

type Row = {
  pid: number;
  user: string | null;
  application: string | null;
  state: string | null;
  duration_seconds: number;
  wait_event_type: string | null;
  query: string | null;
};

function backend(row: Row): BackendQuery {
  return {
    pid: row.pid,
    user: row.user,
    application: row.application,
    state: row.state,
    durationSeconds: Math.round(Number(row.duration_seconds) * 10) / 10,
    waitEventType: row.wait_event_type,
    query: row.query === null ? null : truncate(row.query),
  };
}

function truncate(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > QUERY_TEXT_LIMIT ? `${flat.slice(0, QUERY_TEXT_LIMIT)}…` : flat;
}

/** This database's client backends (not ours) whose current query or transaction runs longer than `seconds`. */
async function longRunning(prisma: Pick<PrismaClient, '$queryRaw'>, seconds: number): Promise<Row[]> {
  return prisma.$queryRaw<Row[]>`
    SELECT pid, usename AS user, application_name AS application, state,
           EXTRACT(EPOCH FROM now() - query_start)::float8 AS duration_seconds,
           wait_event_type, query
      FROM pg_stat_activity
     WHERE datname = current_database()
       AND backend_type = 'client backend'
       AND pid <> pg_backend_pid()
       AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')
       AND now() - query_start > make_interval(secs => ${seconds})
     ORDER BY query_start`;
}

export async function diagnoseDatabase(
  prisma: PrismaClient,
  options: { poolSize: number; longerThanSeconds?: number },
): Promise<DatabaseDiagnosis> {
  const longerThanSeconds = options.longerThanSeconds ?? 300;
  const started = performance.now();
  await prisma.$queryRaw`SELECT 1`;
  const connectionMs = Math.round((performance.now() - started) * 10) / 10;
  const [[server], states, long, waits] = await Promise.all([
    prisma.$queryRaw<{ database: string; max_connections: number; server_total: number }[]>`
      SELECT current_database() AS database, current_setting('max_connections')::int AS max_connections,
             (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') AS server_total`,
    prisma.$queryRaw<{ state: string | null; count: number }[]>`
      SELECT coalesce(state, 'unknown') AS state, count(*)::int AS count
        FROM pg_stat_activity
       WHERE datname = current_database() AND backend_type = 'client backend'
       GROUP BY 1 ORDER BY 1`,
    longRunning(prisma, longerThanSeconds),
    prisma.$queryRaw<(Row & { blocked_by: number[] })[]>`
      SELECT pid, usename AS user, application_name AS application, state,
             EXTRACT(EPOCH FROM now() - coalesce(state_change, query_start))::float8 AS duration_seconds,
             wait_event_type, query, pg_blocking_pids(pid) AS blocked_by
        FROM pg_stat_activity
       WHERE datname = current_database() AND cardinality(pg_blocking_pids(pid)) > 0
       ORDER BY state_change`,
  ]);
  const byState = Object.fromEntries(states.map((s) => [s.state ?? 'unknown', s.count]));
  return {
    database: server.database,
    connectionMs,
    connections: {
      byState,
      total: states.reduce((sum, s) => sum + s.count, 0),
      serverTotal: server.server_total,
      maxConnections: server.max_connections,
      poolSize: options.poolSize,
    },
    longQueries: long.map(backend),
    lockWaits: waits.map((w) => ({ ...backend(w), blockedBy: w.blocked_by })),
    longerThanSeconds,
  };
}

export interface TerminatedQuery extends BackendQuery {
  terminated: boolean;
  /** Why PostgreSQL refused (say, a missing pg_signal_backend role). */
  error?: string;
}

/**
 * Terminates this database's client backends whose query or transaction has run longer than
 * `olderThanSeconds` (never the caller's own). With `onlyPids`, only those of them: what an
 * operator saw and confirmed. Audited with every backend it tried, and whether it went.
 */
export async function terminateLongQueries(
  prisma: PrismaClient,
  request: { olderThanSeconds: number; reason: string; onlyPids?: number[] },
  actorId: string,
): Promise<{ database: string; olderThanSeconds: number; terminated: TerminatedQuery[]; auditId: string }> {
  const candidates = (await longRunning(prisma, request.olderThanSeconds)).filter(
    (row) => !request.onlyPids || request.onlyPids.includes(row.pid),
  );
  const terminated: TerminatedQuery[] = [];
  for (const row of candidates) {
    try {
      // Checked again at the moment of the kill: the backend is still this database's and still past the limit.
      const [result] = await prisma.$queryRaw<{ terminated: boolean | null }[]>`
        SELECT pg_terminate_backend(pid) AS terminated
          FROM pg_stat_activity
         WHERE pid = ${row.pid} AND datname = current_database() AND pid <> pg_backend_pid()
           AND now() - query_start > make_interval(secs => ${request.olderThanSeconds})`;
      terminated.push({ ...backend(row), terminated: result?.terminated === true });
    } catch (error) {
      terminated.push({ ...backend(row), terminated: false, error: (error as Error).message });
    }
  }
  const [{ database }] = await prisma.$queryRaw<{ database: string }[]>`SELECT current_database() AS database`;
  const auditId = randomUUID();
  await audit(prisma, {
    id: auditId,
    actorId,
    action: 'DATABASE_QUERIES_TERMINATED',
    targetType: 'database',
    targetId: database,
    reason: request.reason,
    after: { olderThanSeconds: request.olderThanSeconds, terminated },
  });
  return { database, olderThanSeconds: request.olderThanSeconds, terminated, auditId };
}

/** Candidates for terminateLongQueries, for an operator to confirm first. */
export async function longQueries(prisma: PrismaClient, olderThanSeconds: number): Promise<BackendQuery[]> {
  return (await longRunning(prisma, olderThanSeconds)).map(backend);
}

/** The admins' email after queries were terminated. */
export function terminationNotice(result: Awaited<ReturnType<typeof terminateLongQueries>>, reason: string) {
  const lines = result.terminated.map(
    (q) =>
      `  pid ${q.pid} (${q.user}, ${q.durationSeconds}s, ${q.terminated ? 'terminated' : `not terminated: ${q.error ?? 'gone'}`}): ${q.query}`,
  );
  return {
    key: `database-terminate-${result.auditId}`,
    subject: `${result.terminated.filter((q) => q.terminated).length} long-running queries terminated on ${result.database}`,
    text: `Queries running longer than ${result.olderThanSeconds}s were terminated: ${reason}.\n${lines.join('\n')}\n`,
  };
}
