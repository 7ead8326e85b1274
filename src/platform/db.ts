/**
 * The database client: Prisma over a pg pool whose login can change while it runs, the options
 * every interactive transaction shares, and how to tell an outage or a unique violation apart.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { PrismaClient, type Prisma } from '../generated/prisma/client';
import type { Config } from './config';

export type { PrismaClient };
/** What an interactive transaction's callback receives. */
export type Transaction = Prisma.TransactionClient;

/**
 * Options for an interactive transaction of the request and activity paths: under load (fifty
 * checkouts at once) a transaction waits for a pooled connection longer than Prisma's default.
 */
export const txOptions = { maxWait: 15_000, timeout: 20_000 };
/** The same for the long ones (an inventory reset writes every product it names). */
export const longTxOptions = { maxWait: 15_000, timeout: 60_000 };

/**
 * A pg pool whose login can change while it runs (database password rotation): new connections
 * use the new login, while connections already in use finish their work on the old one and are
 * closed when released. Prisma sees one pool throughout.
 */
export class SwitchablePool extends pg.Pool {
  private current: pg.Pool;
  /** The keyring version of the login in use; undefined means DATABASE_URL's own credentials. */
  loginKid?: string;

  constructor(private readonly baseConfig: pg.PoolConfig & { connectionString: string }) {
    super(baseConfig);
    this.current = this.open(baseConfig.connectionString);
  }

  private open(connectionString: string): pg.Pool {
    const pool = new pg.Pool({ ...this.baseConfig, connectionString });
    pool.on('error', (error) => this.emit('error', error)); // an idle connection lost: Prisma listens here
    return pool;
  }

  /** From now on, connect as `login`; the previous pool drains and closes. */
  use(login: { user: string; password: string }, kid: string): void {
    if (kid === this.loginKid) return;
    const previous = this.current;
    this.current = this.open(withLogin(this.baseConfig.connectionString, login));
    this.loginKid = kid;
    previous.end().catch((error: unknown) => this.emit('error', error));
  }

  // Prisma's adapter uses only connect(), query() and end() of its pool.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override connect(...args: any[]): any {
    return (this.current.connect as (...a: unknown[]) => unknown)(...args);
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    return (this.current.query as (...a: unknown[]) => unknown)(...args);
  }
  /** Connections of the pool in use now, for durable_commerce_db_connections. */
  stats(): { total: number; idle: number; waiting: number; max: number } {
    const { totalCount, idleCount, waitingCount } = this.current;
    return { total: totalCount, idle: idleCount, waiting: waitingCount, max: this.baseConfig.max ?? 10 };
  }
  override async end(): Promise<void> {
    await this.current.end();
  }
}

/** `connectionString` with its user and password replaced. */
export function withLogin(connectionString: string, login: { user: string; password: string }): string {
  const url = new URL(connectionString);
  url.username = encodeURIComponent(login.user);
  url.password = encodeURIComponent(login.password);
  return url.toString();
}

export function createPrisma(databaseUrl: string, maxConnections = 10, acquireTimeoutMs = 5000): PrismaClient {
  return createDatabase(databaseUrl, maxConnections, acquireTimeoutMs).prisma;
}

/**
 * A Prisma client and its pool (whose login can rotate); $disconnect() ends the pool. A caller
 * that cannot get a connection within `acquireTimeoutMs` (every one busy, or the server slow to
 * accept) fails with pg's timeout error, which the API answers as 503 DATABASE_UNAVAILABLE.
 *
 * Each statement goes in its own round trip or transaction, and locks are transaction-scoped:
 * what PgBouncer's transaction mode requires. Statements are prepared by name on connections to
 * PostgreSQL itself, and sent unnamed through a pooler (`preparedStatements`, namedStatements).
 */
export function createDatabase(
  databaseUrl: string,
  maxConnections = 10,
  acquireTimeoutMs = 5000,
  preparedStatements: PreparedStatements = 'auto',
): { prisma: PrismaClient; pool: SwitchablePool } {
  const pool = new SwitchablePool({
    connectionString: databaseUrl,
    max: maxConnections,
    connectionTimeoutMillis: acquireTimeoutMs,
  });
  const adapter = new PrismaPg(pool, {
    disposeExternalPool: true,
    // Unnamed where the generator answers undefined (pg sends a statement without a name as before).
    statementNameGenerator: namedStatements(pool, preparedStatements) as (query: { sql: string }) => string,
  });
  return { prisma: new PrismaClient({ adapter }), pool };
}

/** DATABASE_PREPARED_STATEMENTS: on, off, or on unless the database URL reaches a pooler. */
export type PreparedStatements = Config['DATABASE_PREPARED_STATEMENTS'];

/** Statements with more parameters than this (bulk inserts, long IN lists) vary in text with their size: unnamed. */
const MAX_NAMED_PARAMETERS = 64;
const MAX_REMEMBERED_NAMES = 2000;

/**
 * Names each statement by a hash of its text, so that pg prepares it once per connection and
 * PostgreSQL parses and plans it once: measured with `npm run bench:statements`, a Prisma model
 * read costs this process about a third less CPU, and PostgreSQL a third less too. The same text
 * always gets the same name, so a connection holds at most one prepared statement per statement
 * text of up to MAX_NAMED_PARAMETERS parameters.
 *
 * PgBouncer before 1.21 (Debian 12 has 1.18) cannot keep named statements in transaction mode:
 * a statement prepared on one server connection is missing on the next, or already there
 * (42P05, "prepared statement ... already exists"). So with `auto` the pool first asks one
 * connection whether it reaches PostgreSQL itself (servedByItsOwnBackend, the check the keyring's
 * listener makes too) and names nothing until it knows, nor after a pooler answered; a check that
 * failed (the database down) is asked again by the next statement. `on` names at once (PgBouncer
 * 1.21 or later with max_prepared_statements set), `off` never.
 */
export function namedStatements(
  pool: pg.Pool,
  mode: PreparedStatements,
): (query: { sql: string; args: unknown[] }) => string | undefined {
  let direct: boolean | undefined = mode === 'on' ? true : mode === 'off' ? false : undefined;
  let checking = false;
  const check = () => {
    checking = true;
    reachesPostgresItself(pool)
      .then((itself) => (direct = itself))
      .catch(() => undefined) // asked again by the next statement
      .finally(() => (checking = false));
  };
  const names = new Map<string, string>();
  return ({ sql, args }) => {
    if (direct === undefined && !checking) check();
    if (!direct || args.length > MAX_NAMED_PARAMETERS) return undefined;
    let name = names.get(sql);
    if (name === undefined) {
      if (names.size >= MAX_REMEMBERED_NAMES) names.clear(); // the same text gets the same name again
      name = `dc_${createHash('sha1').update(sql).digest('hex').slice(0, 24)}`;
      names.set(sql, name);
    }
    return name;
  };
}

/** Whether a connection of `pool` reaches PostgreSQL itself (no pooler between). */
export async function reachesPostgresItself(pool: pg.Pool): Promise<boolean> {
  const client = await pool.connect();
  try {
    return await servedByItsOwnBackend(client);
  } finally {
    client.release();
  }
}

/**
 * Whether the backend serving `client` is the one its connection announced (BackendKeyData): false
 * through a pooler such as PgBouncer, which announces a key of its own and hands statements to
 * whichever server connection is free.
 */
export async function servedByItsOwnBackend(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  // pg keeps the announced pid but does not type it.
  return rows[0].pid === (client as unknown as { processID: number | null }).processID;
}

// pg-pool's errors when no connection came in time: every one busy, or the server slow to accept.
const ACQUIRE_TIMEOUTS = ['timeout exceeded when trying to connect', 'Connection terminated due to connection timeout'];

/** The database could not be reached, the pool had no connection in time, or the connection was lost: 503, never 500. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as {
    code?: string;
    name?: string;
    message?: string;
    meta?: { driverAdapterError?: { cause?: { originalCode?: string; kind?: string } } };
  };
  const cause = e?.meta?.driverAdapterError?.cause;
  return (
    ACQUIRE_TIMEOUTS.includes(e?.message ?? '') ||
    // P2028: an interactive transaction could not start (or expired) in time, seen by the chaos run
    // on goodwill credits while PostgreSQL was saturated; it answered 500.
    ['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028'].includes(e?.code ?? '') ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P02', '57P03'].includes(e?.code ?? '') ||
    e?.name === 'PrismaClientInitializationError' ||
    // A server killed or restarting under Prisma's pg adapter: the driver's code travels in meta
    // (57P01 "terminating connection due to unexpected postmaster exit"), and pg reports a
    // connection dropped mid-query as a plain Error. Seen by `npm run chaos`; answered 500 before.
    ['57P01', '57P02', '57P03', '08006', '08003', '08001'].includes(cause?.originalCode ?? '') ||
    /^Connection terminated/.test(e?.message ?? '')
  );
}

/** True when `error` is a unique-constraint violation, whether raised by Prisma or by raw SQL. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; meta?: { driverAdapterError?: { cause?: { originalCode?: string } } } };
  return e?.code === 'P2002' || e?.code === '23505' || e?.meta?.driverAdapterError?.cause?.originalCode === '23505';
}
