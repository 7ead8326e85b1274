/**
 * The product import benchmark: a generated CSV of --rows rows (10,000 by default; a few refused
 * on purpose) posted to POST /admin/products/import of the whole system as `npm run dev` runs it
 * (a Temporal dev server, a fresh database, the worker and the API as their own processes), and
 * followed to its end. It prints figures and asserts nothing: rows per second for judging and
 * for landing, and the worker's and the API's resident memory before and at their peak (Linux
 * VmHWM), which stay flat however large the file: both stream it, never holding it whole. Give
 * several sizes (--rows 10000,40000) to see the peak not grow with the file.
 *
 *   npm run bench:import
 *   npm run bench:import -- --rows 10000,40000
 */
import bcrypt from 'bcryptjs';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdtempSync, openAsBlob, readFileSync, statSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { createPrisma } from '../src/platform/db';
import { metricMiB, rssMiB } from './bench/report';
import { dropDatabase } from './lib/databases';
import { freePort, startSmtpListener, startTemporalDevServer, stopProcess, waitForPort } from './lib/services';
import { migrate } from './migrate';

const options = new Command('bench-import')
  .description('CSV product import throughput and memory, with everything real')
  .option('--rows <list>', 'rows per file, comma-separated: one import each', '10000')
  .parse()
  .opts<{ rows: string }>();
const sizes = options.rows.split(',').map((n) => {
  const rows = Number(n);
  if (!Number.isInteger(rows) || rows < 1) throw new Error(`not a row count: ${n}`);
  return rows;
});

const root = path.join(__dirname, '..');

/** Peak resident memory of a process so far, in MiB (Linux /proc VmHWM). */
function peakMiB(pid: number | undefined): number | undefined {
  try {
    const kib = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Number.isFinite(kib) ? Math.round(kib / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a CSV of `rows` products, every 500th refused (a bad price), streamed to disk. */
async function writeCsv(file: string, rows: number, prefix: string): Promise<void> {
  const out = createWriteStream(file);
  out.write('sku,name,description,price,stock,category,image_url\n');
  for (let i = 0; i < rows; i++) {
    const price = i % 500 === 499 ? 'n/a' : `${(i % 9000) + 1}.${String(i % 100).padStart(2, '0')}`;
    const line = `${prefix}-${i},"Product ${i}, boxed","Row ${i + 2} of the bench file",${price},${i % 50},BENCH,https://cdn.example.test/${i}.jpg\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** The V8 heap in use, in MiB, from a process's Prometheus metrics (prom-client's default metrics). */
const heapUsedMiB = (metricsUrl: string) => metricMiB(metricsUrl, 'nodejs_heap_size_used_bytes');

function start(entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: root,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'durable-commerce-bench-import-'));
  const cleanups: Array<() => Promise<void>> = [];
  try {
    console.log(`bench-import: ${sizes.join(', ')} rows; logs in ${workDir}`);
    const temporal = await startTemporalDevServer({
      port: await freePort(),
      logFile: path.join(workDir, 'temporal.log'),
    });
    cleanups.push(() => stopProcess(temporal.process));
    const smtp = await startSmtpListener();
    cleanups.push(() => smtp.close());
    const databaseUrl =
      process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/durable_commerce_bench_import';
    await dropDatabase(databaseUrl);
    await migrate(databaseUrl);
    const port = await freePort();
    const workerMetrics = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporal.address,
      SMTP_URL: smtp.url,
      LOG_LEVEL: 'warn',
      PORT: String(port),
      METRICS_PORT: String(workerMetrics),
      TEMPORAL_SDK_METRICS_PORT: String(await freePort()),
    };
    const worker = start('src/workers/main.ts', env);
    const api = start('src/api/main.ts', env);
    cleanups.push(() => Promise.all([stopProcess(worker), stopProcess(api)]).then(() => undefined));
    await waitForPort(port, 'API', api);
    const base = `http://127.0.0.1:${port}`;

    const prisma = createPrisma(databaseUrl, 2);
    cleanups.push(() => prisma.$disconnect());
    const email = `bench-admin-${randomUUID()}@example.test`;
    await prisma.user.create({
      data: {
        id: randomUUID(),
        email,
        name: 'Bench admin',
        role: 'ADMIN',
        passwordHash: await bcrypt.hash('bench', 4),
      },
    });
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'bench' }),
    });
    const { token } = (await login.json()) as { token: string };
    const auth = { authorization: `Bearer ${token}` };

    for (const rows of sizes) {
      const file = path.join(workDir, `products-${rows}.csv`);
      await writeCsv(file, rows, `B${rows}-${randomUUID().slice(0, 6)}`);
      const bytes = statSync(file).size;
      const before = {
        worker: rssMiB(worker.pid),
        api: rssMiB(api.pid),
        workerHeap: await heapUsedMiB(`http://127.0.0.1:${workerMetrics}/metrics`),
        apiHeap: await heapUsedMiB(`${base}/metrics`),
      };
      const form = new FormData();
      form.append('reason', 'benchmark');
      form.append('file', await openAsBlob(file), path.basename(file));
      const t0 = Date.now();
      const posted = await fetch(`${base}/admin/products/import`, { method: 'POST', headers: auth, body: form });
      const answer = (await posted.json()) as { importId: string; error?: unknown };
      if (posted.status !== 202 && posted.status !== 200) throw new Error(`import refused: ${JSON.stringify(answer)}`);
      const uploaded = Date.now();
      let judgedAt: number | undefined;
      const heap = { worker: 0, api: 0 };
      const sampleHeap = async () => {
        heap.worker = Math.max(heap.worker, (await heapUsedMiB(`http://127.0.0.1:${workerMetrics}/metrics`)) ?? 0);
        heap.api = Math.max(heap.api, (await heapUsedMiB(`${base}/metrics`)) ?? 0);
      };
      let status: { status: string; imported: number; failed: number; progress?: { phase: string } };
      for (;;) {
        const response = await fetch(`${base}/admin/products/imports/${answer.importId}?limit=1`, { headers: auth });
        status = (await response.json()) as typeof status;
        if (!judgedAt && (status.progress?.phase === 'IMPORTING' || status.status !== 'RUNNING')) judgedAt = Date.now();
        if (status.status !== 'RUNNING') break;
        await sampleHeap();
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const done = Date.now();
      const perSecond = (n: number, ms: number) => Math.round((n * 1000) / Math.max(1, ms));
      console.log(
        [
          `${rows} rows (${(bytes / 1024 / 1024).toFixed(1)} MiB): ${status.status}, ${status.imported} imported, ${status.failed} refused`,
          `  total ${((done - t0) / 1000).toFixed(1)} s: ${perSecond(rows, done - t0)} rows/s`,
          `  upload ${((uploaded - t0) / 1000).toFixed(1)} s, judging ${((judgedAt! - uploaded) / 1000).toFixed(1)} s ` +
            `(${perSecond(rows, judgedAt! - uploaded)} rows/s), landing in one transaction ${((done - judgedAt!) / 1000).toFixed(1)} s ` +
            `(${perSecond(status.imported, done - judgedAt!)} rows/s)`,
          `  worker RSS ${before.worker} MiB before, peak ${peakMiB(worker.pid)} MiB so far; ` +
            `API RSS ${before.api} MiB before, peak ${peakMiB(api.pid)} MiB so far`,
          `  V8 heap in use (sampled every 200 ms): worker ${before.workerHeap} MiB before, at most ${heap.worker} MiB; ` +
            `API ${before.apiHeap} MiB before, at most ${heap.api} MiB`,
        ].join('\n'),
      );
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
