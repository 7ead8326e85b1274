/**
 * Checkout benchmark: the whole system as `npm run dev` runs it (a Temporal dev server,
 * stripe-mock, an SMTP listener, a fresh database, the worker and the API as their own
 * processes), driven by concurrent customers for a fixed time. It prints figures and asserts
 * nothing: checkouts per second, checkout latency (reservation included), card payments from
 * signed webhook to CONFIRMED, errors, and the resident memory of the worker and the API.
 *
 *   npm run bench -- --customers 20 --seconds 30 --card-share 0.5
 */
import { Command, InvalidArgumentError } from 'commander';
import bcrypt from 'bcryptjs';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Stripe from 'stripe';
import { loadConfig } from '../src/platform/config';
import { createPrisma } from '../src/platform/db';
import { dropDatabase } from './lib/databases';
import {
  freePort,
  startSmtpListener,
  startStripeMock,
  startTemporalDevServer,
  stopProcess,
  waitForPort,
} from './lib/services';
import { migrate } from './migrate';

const root = path.join(__dirname, '..');

function positive(value: string): number {
  const parsed = Number(value);
  if (!(parsed > 0)) throw new InvalidArgumentError(`not a positive number: ${value}`);
  return parsed;
}
function share(value: string): number {
  const parsed = Number(value);
  if (!(parsed >= 0 && parsed <= 1)) throw new InvalidArgumentError(`not between 0 and 1: ${value}`);
  return parsed;
}

const options = new Command('bench')
  .description('checkout throughput, latency and memory, with everything real')
  .option('--customers <n>', 'concurrent customers', positive, 20)
  .option('--seconds <n>', 'how long to drive them', positive, 30)
  .option('--card-share <fraction>', 'share of checkouts paid by card (the rest cash on delivery)', share, 0.5)
  .parse()
  .opts<{ customers: number; seconds: number; cardShare: number }>();

/** Resident memory of a process, in MiB (Linux /proc). */
function rssMiB(pid: number | undefined): number | undefined {
  try {
    const kib = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Number.isFinite(kib) ? Math.round(kib / 1024) : undefined;
  } catch {
    return undefined;
  }
}

function percentiles(values: number[]): string {
  if (values.length === 0) return 'n/a';
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)].toFixed(0);
  return `p50 ${at(50)} ms, p95 ${at(95)} ms, p99 ${at(99)} ms, max ${sorted.at(-1)!.toFixed(0)} ms`;
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'durable-commerce-bench-'));
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.reverse().map((child) => stopProcess(child)));
  };
  try {
    console.log(
      `bench: ${options.customers} customers for ${options.seconds}s, ${Math.round(options.cardShare * 100)}% by card; logs in ${workDir}`,
    );
    const temporal = await startTemporalDevServer({
      port: await freePort(),
      logFile: path.join(workDir, 'temporal.log'),
    });
    children.push(temporal.process);
    const stripeMock = await startStripeMock({
      port: await freePort(),
      logFile: path.join(workDir, 'stripe-mock.log'),
    });
    children.push(stripeMock.process);
    const smtp = await startSmtpListener();
    const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/durable_commerce_bench';
    await dropDatabase(databaseUrl);
    await migrate(databaseUrl);

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(await freePort()),
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporal.address,
      STRIPE_API_BASE: stripeMock.baseUrl,
      SMTP_URL: smtp.url,
      LOG_LEVEL: 'warn',
    };
    const config = loadConfig(env);
    const processes: Record<string, ChildProcess> = {};
    for (const [name, entry] of [
      ['worker', 'src/workers/main.ts'],
      ['api', 'src/api/main.ts'],
    ]) {
      processes[name] = spawn(process.execPath, ['--import', 'tsx', entry], {
        cwd: root,
        env,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(processes[name]);
    }
    await waitForPort(config.PORT, 'API', processes.api);
    const base = `http://127.0.0.1:${config.PORT}`;
    const call = async (
      method: string,
      url: string,
      body?: unknown,
      token?: string,
      headers: Record<string, string> = {},
    ) => {
      const response = await fetch(`${base}${url}`, {
        method,
        headers: {
          ...(body !== undefined && { 'content-type': 'application/json' }),
          ...(token && { authorization: `Bearer ${token}` }),
          ...headers,
        },
        body: typeof body === 'string' ? body : body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json().catch(() => ({}))) as Record<string, unknown> };
    };

    // A catalogue that never runs out, and the customers, signed in.
    const prisma = createPrisma(databaseUrl, 2);
    const password = 'bench password';
    const hash = await bcrypt.hash(password, 4);
    const product = await prisma.product.create({
      data: {
        id: randomUUID(),
        sku: `BENCH-${randomUUID().slice(0, 8)}`,
        name: 'Bench item',
        price: 1999,
        currency: 'USD',
        stock: 10_000_000,
      },
    });
    const tokens: string[] = [];
    for (let i = 0; i < options.customers; i++) {
      const email = `bench-${i}-${randomUUID()}@example.test`;
      await prisma.user.create({
        data: { id: randomUUID(), email, name: `Bench ${i}`, role: 'CUSTOMER', passwordHash: hash },
      });
      tokens.push((await call('POST', '/api/auth/login', { email, password })).body.token as string);
    }
    await prisma.$disconnect();

    const stripe = new Stripe('sk_test_bench');
    const checkoutMs: number[] = [];
    const confirmMs: number[] = [];
    const errors = new Map<string, number>();
    const fail = (what: string) => errors.set(what, (errors.get(what) ?? 0) + 1);
    const peak = { worker: 0, api: 0 };
    const sampler = setInterval(() => {
      peak.worker = Math.max(peak.worker, rssMiB(processes.worker.pid) ?? 0);
      peak.api = Math.max(peak.api, rssMiB(processes.api.pid) ?? 0);
    }, 250);

    const deadline = Date.now() + options.seconds * 1000;
    const customer = async (token: string) => {
      while (Date.now() < deadline) {
        const card = Math.random() < options.cardShare;
        const started = performance.now();
        const checkout = await call(
          'POST',
          '/api/checkout',
          { items: [{ productId: product.id, quantity: 1 }], paymentMethod: card ? 'card' : 'cod' },
          token,
        );
        if (checkout.status !== 201) {
          fail(`checkout ${checkout.status} ${(checkout.body.error as { code?: string })?.code ?? ''}`);
          continue;
        }
        checkoutMs.push(performance.now() - started);
        if (!card) continue;
        // The customer pays: Stripe's webhook, signed as Stripe signs it.
        const orderId = checkout.body.orderId as string;
        const order = await call('GET', `/api/orders/${orderId}`, undefined, token);
        const payload = JSON.stringify({
          id: `evt_${randomUUID().replace(/-/g, '')}`,
          object: 'event',
          type: 'payment_intent.succeeded',
          created: Math.floor(Date.now() / 1000),
          data: {
            object: {
              id: order.body.paymentIntentId,
              object: 'payment_intent',
              amount: 1999,
              amount_received: 1999,
              currency: 'usd',
              status: 'succeeded',
              metadata: { orderId },
            },
          },
        });
        const paid = performance.now();
        const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: config.STRIPE_WEBHOOK_SECRET });
        const delivered = await call('POST', '/api/payments/stripe/webhook', payload, undefined, {
          'content-type': 'application/json',
          'stripe-signature': signature,
        });
        if (delivered.status !== 200) {
          fail(`webhook ${delivered.status}`);
          continue;
        }
        for (;;) {
          const status = (await call('GET', `/api/orders/${orderId}`, undefined, token)).body.status;
          if (status === 'CONFIRMED') break;
          if (performance.now() - paid > 30_000) {
            fail('not CONFIRMED within 30s of its webhook');
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 20)); // polling, as a storefront would
        }
        confirmMs.push(performance.now() - paid);
      }
    };
    const began = performance.now();
    await Promise.all(tokens.map(customer));
    const elapsed = (performance.now() - began) / 1000;
    clearInterval(sampler);

    console.log(`
checkouts          ${checkoutMs.length} in ${elapsed.toFixed(1)} s = ${(checkoutMs.length / elapsed).toFixed(1)} per second
checkout latency   ${percentiles(checkoutMs)}   (stock reserved, order workflow started, PaymentIntent for cards)
card: webhook to CONFIRMED   ${percentiles(confirmMs)}   (${confirmMs.length} payments)
errors             ${errors.size ? [...errors].map(([what, n]) => `${what}: ${n}`).join('; ') : 'none'}
memory (RSS)       worker ${rssMiB(processes.worker.pid)} MiB now, ${peak.worker} MiB peak; API ${rssMiB(processes.api.pid)} MiB now, ${peak.api} MiB peak
emails received    ${smtp.messages.length}
`);
    await smtp.close();
  } finally {
    await stop();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
