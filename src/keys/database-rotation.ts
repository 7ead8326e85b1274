/**
 * The database password rotation's steps over the two alternating logins (src/keys/database-login.ts):
 * make sure both exist, stage a new password for the standby login (never one still in its grace
 * from the rotation before) and set it, and, after the grace, lock the old one. The database
 * refusing the admin login what this needs (42501) will not change on retry: DATABASE_ADMIN_REFUSED.
 */
import { randomBytes } from 'node:crypto';
import type { PrismaClient } from '../platform/db';
import { DomainError } from '../platform/errors';
import { ErrorCode } from '../workflows/vocabulary';
import type { DatabaseLogins } from './database-login';
import type { DatabaseLogin, Keyring } from './keyring';

async function asDatabaseAdmin<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if ((error as { code?: string }).code === '42501') {
      throw new DomainError(
        ErrorCode.DATABASE_ADMIN_REFUSED,
        `DATABASE_ADMIN_URL may not manage the login roles: ${(error as Error).message}`,
      );
    }
    throw error;
  }
}

/** The two alternating logins exist and may use the app's tables. */
export async function prepareDatabaseLogins(logins: DatabaseLogins): Promise<{ logins: string[] }> {
  await asDatabaseAdmin(() => logins.prepare());
  return { logins: logins.logins };
}

/**
 * Stages a new password for the standby login (the one not in use) and sets it in the
 * database. The standby must not still be in its grace from the rotation before. A retry stages
 * nothing new and sets the same password again.
 */
export async function stageDatabasePassword(
  deps: { prisma: PrismaClient; keyring: Keyring; logins: DatabaseLogins },
  versionId: string,
): Promise<{ kid: string; user: string }> {
  const { prisma, keyring, logins } = deps;
  const active = await keyring.activeIfAny('DATABASE_PASSWORD');
  const activeUser = active ? (JSON.parse(active.secret) as DatabaseLogin).user : undefined;
  const retiring = await prisma.secretVersion.findMany({
    where: { purpose: 'DATABASE_PASSWORD', status: 'RETIRING' },
  });
  const user = logins.standby(activeUser);
  for (const row of retiring) {
    if ((JSON.parse(await keyring.secretOf(row.kid)) as DatabaseLogin).user === user) {
      throw new DomainError(
        ErrorCode.ROTATION_IN_PROGRESS,
        `${user} is still in its grace period (${row.kid}); rotate again after it ends`,
      );
    }
  }
  const staged = await keyring.stage(
    'DATABASE_PASSWORD',
    versionId,
    JSON.stringify({ user, password: randomBytes(32).toString('base64url') } satisfies DatabaseLogin),
  );
  const login = JSON.parse(await keyring.secretOf(staged.kid)) as DatabaseLogin;
  await asDatabaseAdmin(() => logins.setPassword(login));
  return { kid: staged.kid, user };
}

/** After its grace, the old login's password no longer opens a connection. */
export async function lockDatabaseLogin(
  deps: { keyring: Keyring; logins: DatabaseLogins },
  kid: string,
): Promise<{ user: string }> {
  const { user } = JSON.parse(await deps.keyring.secretOf(kid)) as DatabaseLogin;
  await deps.logins.lock(user);
  return { user };
}
