/**
 * Database password rotation with two alternating login roles (`<prefix>_blue` and
 * `<prefix>_green`, both members of the role `<prefix>` that holds the privileges). One login is
 * ACTIVE in the keyring; a rotation sets a new password on the other, verifies a connection with
 * it, then makes it ACTIVE. Every process looks for a new login every DATABASE_LOGIN_REFRESH and
 * moves its pool over, while connections in use finish on the old login, whose password stays
 * valid for DATABASE_PASSWORD_GRACE. So no running process ever loses a connection.
 *
 * DATABASE_URL stays the bootstrap login each process starts with (it reads the keyring with it);
 * DATABASE_ADMIN_URL (defaults to DATABASE_URL) creates the roles and sets their passwords.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Config } from '../platform/config';
import { withLogin, type SwitchablePool } from '../platform/db';
import type { DatabaseLogin, Keyring } from './keyring';
import type { Logger } from '../platform/logger';

export const DATABASE_PASSWORD = 'DATABASE_PASSWORD';

export function loginRoles(prefix: string): { group: string; logins: [string, string] } {
  return { group: prefix, logins: [`${prefix}_blue`, `${prefix}_green`] };
}

/**
 * The password as PostgreSQL stores it (SCRAM-SHA-256 verifier, RFC 5802/7677), so the clear
 * password never appears in SQL text or the server's statement log.
 */
export function scramVerifier(password: string, salt = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** Does `verifier` (pg_authid.rolpassword) belong to `password`? */
export function matchesVerifier(verifier: string, password: string): boolean {
  const match = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(verifier);
  return !!match && scramVerifier(password, Buffer.from(match[2], 'base64'), Number(match[1])) === verifier;
}

async function withClient<T>(connectionString: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Administration of the two login roles, through DATABASE_ADMIN_URL. */
export class DatabaseLogins {
  readonly group: string;
  readonly logins: [string, string];
  private readonly adminUrl: string;

  constructor(private readonly config: Pick<Config, 'DATABASE_URL' | 'DATABASE_ADMIN_URL' | 'DATABASE_ROLE_PREFIX'>) {
    ({ group: this.group, logins: this.logins } = loginRoles(config.DATABASE_ROLE_PREFIX));
    this.adminUrl = config.DATABASE_ADMIN_URL ?? config.DATABASE_URL;
  }

  /** Creates the group and both logins if missing and grants the group what the app needs. Idempotent. */
  async prepare(): Promise<void> {
    await withClient(this.adminUrl, async (db) => {
      const id = (name: string) => db.escapeIdentifier(name);
      for (const [role, options] of [
        [this.group, 'NOLOGIN'],
        ...this.logins.map((login) => [login, `LOGIN IN ROLE ${id(this.group)}`]),
      ]) {
        // Roles belong to the whole cluster; two databases may prepare at once, so "already exists" is fine.
        await db.query(
          `DO $$ BEGIN CREATE ROLE ${id(role)} ${options}; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`,
        );
      }
      const group = id(this.group);
      const database = id((await db.query<{ db: string }>('SELECT current_database() AS db')).rows[0].db);
      await db.query(`GRANT CONNECT ON DATABASE ${database} TO ${group}`);
      await db.query(`GRANT USAGE ON SCHEMA public TO ${group}`);
      await db.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${group}`);
      await db.query(`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO ${group}`);
      // Tables that later migrations (run by this admin) create are the app's too.
      await db.query(
        `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${group}`,
      );
      await db.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${group}`);
    });
  }

  /** The login that is not `activeUser`: the one a rotation may change. */
  standby(activeUser: string | undefined): string {
    return activeUser === this.logins[0] ? this.logins[1] : this.logins[0];
  }

  async setPassword(login: DatabaseLogin): Promise<void> {
    this.assertOurs(login.user);
    await withClient(this.adminUrl, async (db) => {
      await db.query(
        `ALTER ROLE ${db.escapeIdentifier(login.user)} WITH LOGIN PASSWORD ${db.escapeLiteral(scramVerifier(login.password))}`,
      );
    });
  }

  /** After its grace, the old login's password stops working (its open connections are left alone). */
  async lock(user: string): Promise<void> {
    this.assertOurs(user);
    await withClient(this.adminUrl, async (db) => {
      await db.query(`ALTER ROLE ${db.escapeIdentifier(user)} WITH PASSWORD NULL`);
    });
  }

  /** Connects as `login` the way the app will and proves it can read and write the app's tables. */
  async verify(login: DatabaseLogin): Promise<void> {
    await withClient(withLogin(this.config.DATABASE_URL, login), async (db) => {
      const { rows } = await db.query<{ user: string; writable: boolean }>(
        `SELECT current_user AS user, has_table_privilege('orders', 'SELECT, INSERT, UPDATE') AND has_table_privilege('secret_versions', 'SELECT') AS writable`,
      );
      if (rows[0].user !== login.user) throw new Error(`connected as ${rows[0].user}, not ${login.user}`);
      if (!rows[0].writable) throw new Error(`${login.user} cannot use the app's tables`);
    });
  }

  private assertOurs(user: string): void {
    if (!this.logins.includes(user))
      throw new Error(`${user} is not one of the rotated logins ${this.logins.join(', ')}`);
  }
}

/**
 * Keeps `pool` on the keyring's ACTIVE database login: checks now (a process started after a
 * rotation uses the rotated login from its first request) and every `refreshMs`.
 */
export async function followDatabaseLogin(
  pool: SwitchablePool,
  keyring: Keyring,
  refreshMs: number,
  logger: Logger,
): Promise<() => void> {
  const follow = async () => {
    const active = await keyring.activeIfAny(DATABASE_PASSWORD);
    if (!active || active.kid === pool.loginKid) return;
    const login = JSON.parse(active.secret) as DatabaseLogin;
    pool.use(login, active.kid);
    logger.info({ kid: active.kid, user: login.user }, 'database login switched');
  };
  const followLogged = () =>
    follow().catch((error: unknown) => logger.warn({ err: error }, 'could not check the database login'));
  await followLogged(); // a database down at start is the health check's to report, not a reason not to start
  const timer = setInterval(followLogged, refreshMs);
  timer.unref();
  return () => clearInterval(timer);
}
