/**
 * A PgBouncer of our own in transaction mode, in front of the PostgreSQL server a URL names:
 * the connection pooler the runbook's scenario 6 puts between many app instances and one
 * database. Used by the tests to prove the system works behind it. The binary is Debian's
 * `pgbouncer` package, installed here when missing (as root, with apt-get). PgBouncer will not
 * run as root, so under root it runs as the `postgres` (else `nobody`) system user.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, stopProcess, waitForPort } from './services';

export interface PgBouncer {
  port: number;
  /** `databaseUrl` with its host and port replaced by PgBouncer's. */
  urlFor: (databaseUrl: string) => string;
  logFile: string;
  process: ChildProcess;
  stop: () => Promise<void>;
}

function which(binary: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${binary} || ls /usr/sbin/${binary} 2>/dev/null`], {
    encoding: 'utf8',
  }).stdout.trim();
  return found.split('\n')[0] || undefined;
}

/** The pgbouncer binary; installs Debian's package first when it is missing and we may. */
export function ensurePgBouncer(log: (line: string) => void = console.log): string {
  const found = which('pgbouncer');
  if (found) return found;
  if (process.getuid?.() !== 0 || !which('apt-get'))
    throw new Error(
      'pgbouncer is not installed: apt-get install -y pgbouncer (Debian/Ubuntu), or brew install pgbouncer',
    );
  log('installing pgbouncer with apt-get (first run only)...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update'], { stdio: 'ignore', env });
  const install = spawnSync('apt-get', ['install', '-y', 'pgbouncer'], { stdio: 'ignore', env });
  const installed = which('pgbouncer');
  if (install.status !== 0 || !installed) throw new Error('apt-get install -y pgbouncer failed');
  return installed;
}

/** The uid and gid of a system user PgBouncer may run as, when we are root. */
function unprivilegedUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    const id = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (id.status === 0 && gid.status === 0) return { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
  }
  throw new Error('PgBouncer will not run as root, and there is no postgres or nobody user to run it as');
}

export async function startPgBouncer(options: {
  /** The PostgreSQL server behind it (its host, port and user). */
  upstreamUrl: string;
  /** Server connections per database and user (PgBouncer's default_pool_size). */
  poolSize?: number;
}): Promise<PgBouncer> {
  const binary = ensurePgBouncer();
  const upstream = new URL(options.upstreamUrl);
  const user = decodeURIComponent(upstream.username || 'postgres');
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pgbouncer-'));
  chmodSync(dir, 0o755);
  const logFile = path.join(dir, 'pgbouncer.log');
  writeFileSync(path.join(dir, 'userlist.txt'), `"${user}" ""\n`);
  writeFileSync(
    path.join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${upstream.hostname} port=${upstream.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${path.join(dir, 'userlist.txt')}`,
      'pool_mode = transaction',
      `default_pool_size = ${options.poolSize ?? 5}`,
      'max_client_conn = 500',
      `admin_users = ${user}`,
      '',
    ].join('\n'),
  );
  const out = openSync(logFile, 'a');
  const runAs = unprivilegedUser();
  if (runAs) spawnSync('chown', ['-R', `${runAs.uid}:${runAs.gid}`, dir]);
  const child = spawn(binary, [path.join(dir, 'pgbouncer.ini')], { stdio: ['ignore', out, out], ...runAs });
  await waitForPort(port, 'pgbouncer', child, 30_000);
  return {
    port,
    logFile,
    process: child,
    urlFor: (databaseUrl: string) => {
      const url = new URL(databaseUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    stop: () => stopProcess(child),
  };
}
