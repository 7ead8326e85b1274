/**
 * The two things the benchmark drives. The product: durable-commerce's worker(s) and API(s) as
 * their own processes, customers going through the HTTP API and paying by a Stripe webhook
 * signed as Stripe signs it. The floor: the same message pattern on raw Temporal with no-op
 * activities (floor-workflow.ts), driven straight through a Temporal client.
 */
import { Client, Connection, WithStartWorkflowOperation } from '@temporalio/client';
import bcrypt from 'bcryptjs';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import Stripe from 'stripe';
import { createPrisma } from '../../src/platform/db';
import { freePort, stopProcess, waitForPort } from '../lib/services';
import type { floorOrderWorkflow } from './floor-workflow';
import { floorPayment, floorStatus, placeFloorOrder } from './floor-workflow';
import type { LoadTarget } from './load';

const root = path.join(__dirname, '..', '..');

export interface Running {
  target: LoadTarget;
  /** Process ids by name (worker-1, api-1, ...), for memory and CPU. */
  pids: Record<string, number | undefined>;
  /** Each process's Prometheus endpoint by the same names, where it has one (the product's). */
  metricsUrls?: Record<string, string>;
  stop: () => Promise<void>;
}

function start(entry: string, env: NodeJS.ProcessEnv, profileDir?: string): ChildProcess {
  // --profile: V8's CPU profile of each process, written when it stops (open it in Chrome DevTools).
  const profiling = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  return spawn(process.execPath, [...profiling, '--import', 'tsx', entry], {
    cwd: root,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export async function startProduct(options: {
  env: NodeJS.ProcessEnv;
  databaseUrl: string;
  webhookSecret: string;
  workers: number;
  apis: number;
  customers: number;
  /** Where each process writes its V8 CPU profile when it stops; none when unset. */
  profileDir?: string;
}): Promise<Running> {
  const children: ChildProcess[] = [];
  const pids: Record<string, number | undefined> = {};
  const metricsUrls: Record<string, string> = {};
  let stopping = false;
  const watch = (name: string, child: ChildProcess) => {
    children.push(child);
    pids[name] = child.pid;
    child.once('exit', (code, signal) => {
      if (!stopping) console.error(`bench: ${name} exited (${signal ?? code}) during the run`);
    });
  };
  const stop = async () => {
    stopping = true;
    await Promise.all(children.map((child) => stopProcess(child)));
  };
  for (let i = 1; i <= options.workers; i++) {
    // Each worker serves its own /metrics: ports of its own, so several can share the machine.
    const metrics = { METRICS_PORT: String(await freePort()), TEMPORAL_SDK_METRICS_PORT: String(await freePort()) };
    watch(`worker-${i}`, start('src/workers/main.ts', { ...options.env, ...metrics }, options.profileDir));
    metricsUrls[`worker-${i}`] = `http://127.0.0.1:${metrics.METRICS_PORT}/metrics`;
  }
  const bases: string[] = [];
  for (let i = 1; i <= options.apis; i++) {
    const port = await freePort();
    const child = start('src/api/main.ts', { ...options.env, PORT: String(port) }, options.profileDir);
    watch(`api-${i}`, child);
    await waitForPort(port, `API ${i}`, child).catch(async (error: unknown) => {
      await stop();
      throw error;
    });
    bases.push(`http://127.0.0.1:${port}`);
    metricsUrls[`api-${i}`] = `http://127.0.0.1:${port}/metrics`;
  }
  const call = async (customer: number, method: string, url: string, body?: string, headers = {}) => {
    const response = await fetch(`${bases[customer % bases.length]}${url}`, {
      method,
      headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
      body,
    });
    return { status: response.status, body: (await response.json().catch(() => ({}))) as Record<string, unknown> };
  };

  // A catalogue that never runs out, and the customers, signed in.
  const prisma = createPrisma(options.databaseUrl, 2);
  const password = 'bench password';
  const hash = await bcrypt.hash(password, 4);
  const product = await prisma.product.create({
    data: {
      id: randomUUID(),
      sku: `BENCH-${randomUUID().slice(0, 8)}`,
      name: 'Bench item',
      price: 1999,
      currency: 'USD',
      stock: 100_000_000,
    },
  });
  const tokens: string[] = [];
  for (let i = 0; i < options.customers; i++) {
    const email = `bench-${i}-${randomUUID()}@example.test`;
    await prisma.user.create({
      data: { id: randomUUID(), email, name: `Bench ${i}`, role: 'CUSTOMER', passwordHash: hash },
    });
    const login = await call(i, 'POST', '/api/auth/login', JSON.stringify({ email, password }));
    tokens.push(login.body.token as string);
  }
  await prisma.$disconnect();
  const auth = (customer: number) => ({ authorization: `Bearer ${tokens[customer]}` });
  const stripe = new Stripe('sk_test_bench');

  const target: LoadTarget = {
    async checkout(customer, card) {
      const body = { items: [{ productId: product.id, quantity: 1 }], paymentMethod: card ? 'card' : 'cod' };
      const placed = await call(customer, 'POST', '/api/checkout', JSON.stringify(body), auth(customer));
      if (placed.status !== 201) {
        return { error: `${placed.status} ${(placed.body.error as { code?: string })?.code ?? ''}` };
      }
      const orderId = placed.body.orderId as string;
      // The PaymentIntent the storefront confirms: its webhook, forged below, names it.
      return card ? { orderId, paymentRef: placed.body.paymentIntentId as string } : { orderId };
    },
    async pay(customer, orderId, paymentIntentId) {
      const payload = JSON.stringify({
        id: `evt_${randomUUID().replace(/-/g, '')}`,
        object: 'event',
        type: 'payment_intent.succeeded',
        created: Math.floor(Date.now() / 1000),
        data: {
          object: {
            id: paymentIntentId,
            object: 'payment_intent',
            amount: 1999,
            amount_received: 1999,
            currency: 'usd',
            status: 'succeeded',
            metadata: { orderId },
          },
        },
      });
      const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: options.webhookSecret });
      const delivered = await call(customer, 'POST', '/api/payments/stripe/webhook', payload, {
        'stripe-signature': signature,
      });
      return delivered.status === 200 ? undefined : `webhook ${delivered.status}`;
    },
    async status(customer, orderId) {
      return (await call(customer, 'GET', `/api/orders/${orderId}`, undefined, auth(customer))).body.status as string;
    },
  };
  // Warm up: one order through each API, so the measured run starts once every worker polls
  // (a worker still bundling its workflows makes the first checkouts wait for it).
  for (let i = 0; i < bases.length; i++) {
    const giveUpAt = Date.now() + 300_000;
    for (;;) {
      const placed = await target.checkout(i, false);
      if (!('error' in placed)) break;
      if (!placed.error.startsWith('503') || Date.now() > giveUpAt) {
        await stop();
        throw new Error(`warm-up checkout through API ${i + 1} failed: ${placed.error}`);
      }
    }
  }
  return { target, pids, metricsUrls, stop };
}

export async function startFloor(options: { temporalAddress: string; workers: number }): Promise<Running> {
  const taskQueue = `bench-floor-${randomUUID()}`;
  const children: ChildProcess[] = [];
  const pids: Record<string, number | undefined> = {};
  for (let i = 1; i <= options.workers; i++) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench/floor-worker.ts'], {
      cwd: root,
      env: { ...process.env, TEMPORAL_ADDRESS: options.temporalAddress, FLOOR_TASK_QUEUE: taskQueue },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    pids[`floor-worker-${i}`] = child.pid;
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('floor worker started') && resolve());
      child.once('exit', (code) => reject(new Error(`floor worker exited with ${code}`)));
    });
  }
  const connection = await Connection.connect({ address: options.temporalAddress });
  const client = new Client({ connection });
  const target: LoadTarget = {
    async checkout() {
      const orderId = randomUUID();
      const start = new WithStartWorkflowOperation<typeof floorOrderWorkflow>('floorOrderWorkflow', {
        workflowId: `floor-order-${orderId}`,
        taskQueue,
        args: [{ orderId, awaitShipmentMs: 7 * 24 * 3600_000 }],
        workflowIdConflictPolicy: 'FAIL',
      });
      await client.workflow.executeUpdateWithStart(placeFloorOrder, { startWorkflowOperation: start });
      return { orderId };
    },
    async pay(_customer, orderId) {
      await client.workflow.getHandle(`floor-order-${orderId}`).signal(floorPayment, { amount: 1999 });
      return undefined;
    },
    async status(_customer, orderId) {
      return client.workflow.getHandle(`floor-order-${orderId}`).query(floorStatus);
    },
  };
  return {
    target,
    pids,
    stop: async () => {
      await connection.close();
      await Promise.all(children.map((child) => stopProcess(child)));
    },
  };
}
