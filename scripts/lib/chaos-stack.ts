/**
 * The stack `npm run chaos` kills: every part a process of its own that can be killed with
 * SIGKILL and started again on the same port with the same state. A private PostgreSQL cluster
 * (initdb in a temporary directory, never the machine's shared server), a Temporal dev server
 * with its own database file, stripe-mock, the Razorpay sandbox and an SMTP listener (these in
 * this process), and the compiled worker and API (dist/, run with plain node).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, createWriteStream, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/platform/config';
import { startRazorpaySandbox } from './razorpay-sandbox';
import {
  freePort,
  isListening,
  startSmtpListener,
  startStripeMock,
  startTemporalDevServer,
  stopProcess,
  waitForPort,
} from './services';

const root = path.join(__dirname, '..', '..');
const razorpayKeys = loadConfig({});
const pgBin = process.env.CHAOS_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** initdb and postgres refuse to run as root: then they run as the `postgres` user. */
function asPostgresUser(command: string, args: string[]): [string, string[]] {
  if (os.userInfo().uid !== 0) return [command, args];
  return ['runuser', ['-u', 'postgres', '--', command, ...args]];
}

function pidsUnder(pid: number): number[] {
  const out = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.trim();
  return out ? out.split('\n').map(Number) : [];
}

/** The user and system CPU time a process has used so far, in ms (/proc/<pid>/stat; 0 where there is none). */
function cpuMsOf(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

function killNow(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export class PrivatePostgres {
  readonly port: number;
  private constructor(
    private readonly dataDir: string,
    port: number,
    private readonly logFile: string,
  ) {
    this.port = port;
  }

  get url(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/durable_commerce_chaos`;
  }

  static async create(workDir: string): Promise<PrivatePostgres> {
    const dataDir = path.join(workDir, 'pg');
    mkdirSync(dataDir, { recursive: true });
    chmodSync(workDir, 0o777);
    chmodSync(dataDir, 0o700);
    if (os.userInfo().uid === 0) spawnSync('chown', ['postgres', dataDir]);
    const [command, args] = asPostgresUser(path.join(pgBin, 'initdb'), [
      '-D',
      dataDir,
      '-A',
      'trust',
      '-U',
      'postgres',
      '--no-sync',
    ]);
    const init = spawnSync(command, args, { encoding: 'utf8' });
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
    const pg = new PrivatePostgres(dataDir, await freePort(), path.join(workDir, 'postgres.log'));
    await pg.start();
    return pg;
  }

  /** Starts the cluster (after a crash: PostgreSQL's own recovery replays the WAL). */
  async start(): Promise<void> {
    const [command, args] = asPostgresUser(path.join(pgBin, 'pg_ctl'), [
      '-D',
      this.dataDir,
      '-l',
      this.logFile,
      '-w',
      '-o',
      `-p ${this.port} -k ${this.dataDir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off`,
      'start',
    ]);
    for (let attempt = 0; ; attempt++) {
      if (os.userInfo().uid === 0) {
        spawnSync('touch', [this.logFile]);
        spawnSync('chown', ['postgres', this.logFile]);
      }
      const started = spawnSync(command, args, { encoding: 'utf8' });
      if (started.status === 0) break;
      // Backends of a killed postmaster can still hold its shared memory for a moment.
      if (attempt >= 20) throw new Error(`pg_ctl start failed: ${started.stderr || started.stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await waitForPort(this.port, 'PostgreSQL');
  }

  /** kill -9 of the postmaster and of every backend it had. */
  kill(): void {
    const pid = Number(readFileSync(path.join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const children = pidsUnder(pid);
    killNow(pid);
    children.forEach(killNow);
  }

  stop(): void {
    const [command, args] = asPostgresUser(path.join(pgBin, 'pg_ctl'), ['-D', this.dataDir, '-m', 'immediate', 'stop']);
    spawnSync(command, args);
  }
}

export class RestartableTemporal {
  process?: ChildProcess;
  private constructor(
    readonly port: number,
    private readonly workDir: string,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async create(workDir: string): Promise<RestartableTemporal> {
    const temporal = new RestartableTemporal(await freePort(), workDir);
    await temporal.start();
    return temporal;
  }

  /**
   * Same port, same database file: the workflows it had are still there. The dev server keeps
   * everything in one SQLite file behind a single connection, so every read and write of every
   * workflow waits its turn there. With SQLite's defaults (a rollback journal, and a sync to disk
   * at every commit) that turn took long enough on a shared machine that persistence calls timed
   * out (`context deadline exceeded` in temporal.log) and workflow tasks waited minutes in the
   * backlog. WAL with synchronous=NORMAL commits without a sync (the WAL is synced at
   * checkpoints) and lets reads proceed beside the writer. It is as safe against what the run
   * does, kill -9 of the process: a committed transaction is in the WAL file, which the next
   * start replays; only a crash of the machine itself could lose the last commits.
   */
  async start(): Promise<void> {
    const server = await startTemporalDevServer({
      port: this.port,
      dbFile: path.join(this.workDir, 'temporal.db'),
      logFile: path.join(this.workDir, 'temporal.log'),
      sqlitePragmas: { journal_mode: 'wal', synchronous: 'normal' },
    });
    this.process = server.process;
  }

  async kill(): Promise<void> {
    await stopProcess(this.process, 'SIGKILL');
  }
}

/** The compiled API or worker, started again after each kill; `start()` answers how long it took to serve. */
export class AppProcess {
  process?: ChildProcess;
  restarts: number[] = [];
  /** CPU time (user and system) each restarted process used until it served: its cost whatever the load. */
  restartCpu: number[] = [];
  /** CPU time the last start took until the process served, in ms. */
  lastStartCpuMs = 0;
  /**
   * Exits nobody asked for (a crash, not a kill -9 of the run's): each is a defect of its own.
   * The process is started again a second later, as an orchestrator would, and the run fails.
   */
  crashes: string[] = [];
  constructor(
    readonly name: 'api' | 'worker',
    private readonly env: NodeJS.ProcessEnv,
    private readonly logFile: string,
  ) {}

  async start(): Promise<number> {
    const began = performance.now();
    const entry = path.join(root, 'dist', 'src', this.name === 'api' ? 'api/main.js' : 'workers/main.js');
    const out = openSync(this.logFile, 'a');
    const logFrom = statSync(this.logFile).size; // where this process's lines begin (the run kills the one before first)
    const child = spawn(process.execPath, ['--enable-source-maps', entry], {
      env: this.env,
      stdio: ['ignore', this.name === 'worker' ? 'pipe' : out, out],
    });
    this.process = child;
    if (this.name === 'worker') {
      // Every line goes on to the log (a pipe nobody reads fills up and blocks the worker).
      const logStream = createWriteStream(this.logFile, { flags: 'a' });
      await new Promise<void>((resolve, reject) => {
        let seen = '';
        const onExit = (code: number | null) => reject(new Error(`worker exited with ${code} before polling`));
        child.once('exit', onExit);
        child.stdout!.on('data', (chunk: Buffer) => {
          logStream.write(chunk);
          if (seen === 'done') return;
          // Looked for before trimming: the line can arrive in one chunk with the lines after it.
          const text = seen + chunk.toString();
          seen = text.slice(-200);
          if (text.includes('worker started')) {
            seen = 'done';
            child.off('exit', onExit);
            resolve();
          }
        });
      });
      child.once('exit', () => logStream.end());
    } else {
      const port = Number(this.env.PORT);
      await waitForPort(port, 'API', child, 60_000);
    }
    this.lastStartCpuMs = cpuMsOf(child.pid);
    child.once('exit', (code, signal) => {
      if (this.process !== child) return; // killed by the run (kill() lets go of it first)
      const crash = `${new Date().toISOString()}: exited on its own (${signal ?? `code ${code}`})`;
      const index = this.crashes.push(crash) - 1;
      setTimeout(() => {
        // By now the log has the process's last words (a fatal line, or an uncaught error's stack on
        // stderr): they go with the crash, since the work directory is removed after the run.
        this.crashes[index] = `${crash}; the log ended with:\n${lastLines(this.logFile, logFrom, 25)}`;
        if (this.process === child) void this.start().catch(() => undefined);
      }, 1000);
    });
    return performance.now() - began;
  }

  async kill(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    await stopProcess(child, 'SIGKILL');
  }

  async restart(): Promise<number> {
    await this.kill();
    const ms = await this.start();
    this.restarts.push(ms);
    this.restartCpu.push(this.lastStartCpuMs);
    return ms;
  }
}

/** The last `count` lines of a log file from byte `from` on, indented, for a report. */
function lastLines(file: string, from: number, count: number): string {
  const lines = readFileSync(file).subarray(from).toString('utf8').trimEnd().split('\n');
  return lines
    .slice(-count)
    .map((line) => `    ${line.length > 1000 ? `${line.slice(0, 1000)}…` : line}`)
    .join('\n');
}

export interface ChaosStack {
  workDir: string;
  postgres: PrivatePostgres;
  temporal: RestartableTemporal;
  api: AppProcess;
  worker: AppProcess;
  smtp: Awaited<ReturnType<typeof startSmtpListener>>;
  env: NodeJS.ProcessEnv;
  baseUrl: string;
  stop: () => Promise<void>;
}

export async function startChaosStack(workDir: string, env: Record<string, string>): Promise<ChaosStack> {
  const postgres = await PrivatePostgres.create(workDir);
  const others: ChildProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const temporal = await RestartableTemporal.create(workDir);
    const stripeMock = await startStripeMock({
      port: await freePort(),
      logFile: path.join(workDir, 'stripe-mock.log'),
    });
    others.push(stripeMock.process);
    const smtp = await startSmtpListener();
    cleanups.push(() => smtp.close());
    const razorpay = await startRazorpaySandbox({
      keyId: razorpayKeys.RAZORPAY_KEY_ID,
      keySecret: razorpayKeys.RAZORPAY_KEY_SECRET,
    });
    cleanups.push(() => razorpay.close());
    const port = await freePort();
    const processEnv: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'development',
      PORT: String(port),
      // Ports of its own (the defaults, 9464 and 9465, may be another stack's on a shared machine).
      METRICS_PORT: String(await freePort()),
      TEMPORAL_SDK_METRICS_PORT: String(await freePort()),
      DATABASE_URL: postgres.url,
      TEMPORAL_ADDRESS: temporal.address,
      STRIPE_API_BASE: stripeMock.baseUrl,
      RAZORPAY_API_BASE: razorpay.baseUrl,
      SMTP_URL: smtp.url,
      LOG_LEVEL: 'info',
      ...env,
    };
    const api = new AppProcess('api', processEnv, path.join(workDir, 'api.log'));
    const worker = new AppProcess('worker', processEnv, path.join(workDir, 'worker.log'));
    return {
      workDir,
      postgres,
      temporal,
      api,
      worker,
      smtp,
      env: processEnv,
      baseUrl: `http://127.0.0.1:${port}`,
      async stop() {
        await api.kill();
        await worker.kill();
        await temporal.kill();
        await Promise.all(others.map((child) => stopProcess(child, 'SIGKILL')));
        for (const cleanup of cleanups) await cleanup().catch(() => undefined);
        postgres.stop();
      },
    };
  } catch (error) {
    postgres.stop();
    await Promise.all(others.map((child) => stopProcess(child, 'SIGKILL')));
    throw error;
  }
}

export { isListening };
