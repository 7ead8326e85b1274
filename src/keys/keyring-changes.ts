/**
 * How a process learns, within milliseconds, that another one changed the keyring, so that its
 * Keyring can keep a copy (src/keys/keyring.ts) without missing a rotation. A statement-level
 * trigger on secret_versions (migration 20261201180700_keyring_changes) calls pg_notify on
 * KEYRING_CHANNEL for every INSERT, UPDATE, DELETE and TRUNCATE, whoever makes it: the keyring,
 * an operator's hand-written SQL, a test. Each process LISTENs on one dedicated connection of its
 * own and drops its copy on every notification.
 *
 * That connection is not one of the pool's: LISTEN lasts for a session, which PgBouncer in
 * transaction mode does not keep (README "Database connections and PgBouncer"). It goes to
 * KEYRING_LISTEN_URL (DATABASE_URL unless set), which must reach PostgreSQL itself: a pooler in
 * between is detected (the backend's pid differs from the one the connection announced) and then
 * nothing is listened to, with a warning: the cache's TTL alone bounds staleness. A lost
 * connection is reported at once (the keyring reads afresh while it is down) and opened again
 * with backoff. close() ends it; until then its socket keeps the process alive, so every owner
 * closes its Keyring on shutdown.
 */
import pg from 'pg';
import { servedByItsOwnBackend } from '../platform/db';
import type { Logger } from '../platform/logger';

/** The channel the trigger notifies (one per database: NOTIFY never crosses databases). */
export const KEYRING_CHANNEL = 'secret_versions_changed';
/** The listening connection's application_name, as pg_stat_activity (and GET /admin/system/database) shows it. */
export const KEYRING_LISTENER_NAME = 'durable-commerce keyring listener';

/**
 * `connecting` (at first), `listening`, `lost` (until it listens again), `unavailable` (a pooler,
 * not PostgreSQL: never listens), `closed`.
 */
export type ListenState = 'connecting' | 'listening' | 'lost' | 'unavailable' | 'closed';

export interface KeyringChangeHandlers {
  /** A change was committed to secret_versions somewhere. */
  changed(): void;
  /** The listener's state changed; notifications may have been missed unless it is `listening`. */
  state(state: ListenState): void;
}

export interface RetryOptions {
  firstMs: number;
  maxMs: number;
}

export class KeyringChanges {
  private client?: pg.Client;
  private timer?: NodeJS.Timeout;
  private retryMs: number;
  state: ListenState = 'connecting';

  constructor(
    private readonly url: string,
    private readonly handlers: KeyringChangeHandlers,
    private readonly logger: Pick<Logger, 'warn' | 'info'>,
    private readonly retry: RetryOptions = { firstMs: 200, maxMs: 10_000 },
  ) {
    this.retryMs = retry.firstMs;
    void this.connect();
  }

  private setState(state: ListenState): void {
    if (this.state === 'closed') return;
    this.state = state;
    this.handlers.state(state);
  }

  private async connect(): Promise<void> {
    if (this.state === 'closed') return;
    const client = new pg.Client({
      connectionString: this.url,
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
      application_name: KEYRING_LISTENER_NAME,
    });
    this.client = client;
    let lost = false;
    const onLost = (error?: unknown) => {
      if (lost) return;
      lost = true;
      client.end().catch(() => undefined);
      if (this.client !== client || this.state === 'closed') return;
      this.client = undefined;
      this.logger.warn(
        { err: error },
        'keyring change listener lost: the keyring is read afresh on every use until it listens again',
      );
      this.setState('lost');
      this.timer = setTimeout(() => void this.connect(), this.retryMs);
      this.timer.unref();
      this.retryMs = Math.min(this.retryMs * 2, this.retry.maxMs);
    };
    client.on('error', onLost);
    client.on('end', () => onLost(new Error('connection ended')));
    client.on('notification', (message) => {
      if (message.channel === KEYRING_CHANNEL) this.handlers.changed();
    });
    try {
      await client.connect();
      if (!(await servedByItsOwnBackend(client))) {
        // PgBouncer (or another pooler) answers for PostgreSQL: a LISTEN would be left on a server
        // connection it hands to someone else, and notifications would not come here.
        lost = true;
        this.client = undefined;
        await client.end().catch(() => undefined);
        this.logger.warn(
          {},
          'KEYRING_LISTEN_URL reaches a connection pooler, not PostgreSQL: keyring changes made elsewhere are seen within KEYRING_CACHE_TTL, not at once; point KEYRING_LISTEN_URL at PostgreSQL itself',
        );
        this.setState('unavailable');
        return;
      }
      await client.query(`LISTEN ${KEYRING_CHANNEL}`);
    } catch (error) {
      onLost(error);
      return;
    }
    if (lost || this.client !== client) return;
    this.retryMs = this.retry.firstMs;
    this.setState('listening');
  }

  /** Stops listening for good and closes the connection. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.handlers.state('closed');
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}

/** Where to listen, from the configuration: KEYRING_LISTEN_URL, else DATABASE_URL; undefined for `off`. */
export function keyringListenUrl(config: { DATABASE_URL: string; KEYRING_LISTEN_URL?: string }): string | undefined {
  if (config.KEYRING_LISTEN_URL === 'off') return undefined;
  return config.KEYRING_LISTEN_URL ?? config.DATABASE_URL;
}
