/**
 * `npm run chaos -- --orders 100 --seconds 40`: proof that nothing is lost or done twice when
 * processes die. It builds dist/, starts a stack of its own (scripts/lib/chaos-stack.ts: private
 * PostgreSQL, Temporal dev server, stripe-mock, SMTP, the compiled worker and API), and drives a
 * mixed load: card orders whose webhooks arrive twice and out of order, cash on delivery, wallet
 * payments after goodwill credits, refunds to the wallet with an admin's approval, and checkouts
 * retried (and double-clicked) with one Idempotency-Key. Meanwhile it kills with SIGKILL the
 * worker every few seconds and the API, Temporal and PostgreSQL at least once each, restarting
 * each and printing how long it took to serve again. Then it lets the system settle and checks
 * scripts/lib/chaos-checks.ts. The last line is
 *   chaos: <n> orders, <n> as expected, <n> lost, <n> doubled, settled in <s> s
 * and the exit code is 1 when anything was lost or doubled.
 */
import bcrypt from 'bcryptjs';
import { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Stripe from 'stripe';
import { createPrisma } from '../src/platform/db';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import { checkInvariants, type AcceptedOrder, type Flow, type StillMoving, type Verdict } from './lib/chaos-checks';
import { startChaosStack, type ChaosStack } from './lib/chaos-stack';
import { migrate } from './migrate';
import { positive } from './lib/cli-args';

const options = new Command('chaos')
  .description('a mixed load under kill -9 of every part, then the invariants')
  .option('--orders <n>', 'orders to place', positive, 100)
  .option('--seconds <n>', 'how long the load (and the killing) lasts', positive, 40)
  .option('--customers <n>', 'customers (each flow uses one)', positive, 10)
  .option('--worker-kill-every <s>', 'seconds between worker kills', positive, 5)
  .option('--settle <s>', 'longest wait for the invariants after the load', positive, 240)
  .option('--no-build', 'use dist/ as it is')
  .option('--keep', 'leave the work directory (logs, databases) in place')
  .parse()
  .opts<{
    orders: number;
    seconds: number;
    customers: number;
    workerKillEvery: number;
    settle: number;
    build: boolean;
    keep: boolean;
  }>();

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const WORKFLOW_EXECUTION_STATUS_RUNNING = proto.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
const WEBHOOK_SECRET = 'whsec_durable_commerce_local';
/** How long a client keeps retrying one request through outages before it gives up. */
const CLIENT_PATIENCE_MS = 300_000;

interface Answer {
  status: number;
  retryAfterSeconds?: number;
  body: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * How long a careful client waits before sending a request again: what the server asked for in
 * Retry-After, or else an exponential backoff from half a second to 8 s; both with jitter, so
 * clients that failed together do not come back together.
 */
function retryDelayMs(attempt: number, retryAfterSeconds?: number): number {
  const backoff = Math.min(8_000, 500 * 2 ** attempt);
  const base = retryAfterSeconds !== undefined && retryAfterSeconds > 0 ? retryAfterSeconds * 1000 : backoff;
  return base * (1 + Math.random() * 0.5);
}

class Client {
  constructor(private readonly base: string) {}
  async once(method: string, url: string, body?: unknown, token?: string, headers: Record<string, string> = {}) {
    const response = await fetch(`${this.base}${url}`, {
      method,
      headers: {
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...(token && { authorization: `Bearer ${token}` }),
        ...headers,
      },
      body: typeof body === 'string' ? body : body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const retryAfter = Number(response.headers.get('retry-after') ?? '');
    return {
      status: response.status,
      body: (await response.json().catch(() => ({}))) as Answer['body'],
      retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
    };
  }
  /**
   * As a careful client does: retried (same body, same headers) on a broken connection, a 5xx or
   * a 429, after the Retry-After the server asked for (else a growing backoff).
   */
  async call(method: string, url: string, body?: unknown, token?: string, headers?: Record<string, string>) {
    const deadline = Date.now() + CLIENT_PATIENCE_MS;
    let last = 'no answer';
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      let retryAfterSeconds: number | undefined;
      try {
        const answer = await this.once(method, url, body, token, headers);
        if (answer.status < 500 && answer.status !== 429) return answer;
        last = `${answer.status} ${answer.body.error?.code ?? ''}`;
        retryAfterSeconds = answer.retryAfterSeconds;
      } catch (error) {
        last = (error as Error).message;
      }
      await pause(Math.min(retryDelayMs(attempt, retryAfterSeconds), Math.max(0, deadline - Date.now())));
    }
    throw new Error(`${method} ${url}: gave up after ${CLIENT_PATIENCE_MS / 1000} s (${last})`);
  }
}

/**
 * The workflows among these that still have work in hand: running, with a workflow task, an
 * activity or a child pending. Described a few at a time (a busy server is what is being asked).
 */
function stillMovingIn(temporal: TemporalClient): StillMoving {
  return async (workflowIds) => {
    const moving = new Set<string>();
    for (let i = 0; i < workflowIds.length; i += 8) {
      await Promise.all(
        workflowIds.slice(i, i + 8).map(async (workflowId) => {
          const described = await temporal.workflowService
            .describeWorkflowExecution({ namespace: 'default', execution: { workflowId } })
            .catch(() => undefined); // never started, or gone: nothing at work
          const running = described?.workflowExecutionInfo?.status === WORKFLOW_EXECUTION_STATUS_RUNNING;
          const busy =
            !!described?.pendingWorkflowTask ||
            (described?.pendingActivities?.length ?? 0) > 0 ||
            (described?.pendingChildren?.length ?? 0) > 0;
          if (running && busy) moving.add(workflowId);
        }),
      );
    }
    return moving;
  };
}

/** "unsettled: 12 card orders, 3 refund orders, 40 webhook events" from the problem lines. */
function countsOf(problems: string[]): string {
  const counts = new Map<string, number>();
  for (const problem of problems) {
    const match = /^unsettled: (?:(\w+) order|(webhook event|product))/.exec(problem);
    const what = match?.[1] ? `${match[1]} orders` : match?.[2] ? `${match[2]}s` : undefined;
    if (what) counts.set(what, (counts.get(what) ?? 0) + 1);
  }
  return `unsettled: ${[...counts].map(([what, n]) => `${n} ${what}`).join(', ')}`;
}

async function main(): Promise<number> {
  if (options.build) {
    log('building dist/ (npm run build)');
    const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: path.join(__dirname, '..'), stdio: 'ignore' });
    if (build.status !== 0) throw new Error('npm run build failed');
  }
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'durable-commerce-chaos-'));
  log(`${options.orders} orders over ${options.seconds} s; work directory ${workDir}`);
  const stack = await startChaosStack(workDir, {
    RESERVATION_TTL: '1h',
    REFUND_AUTO_APPROVE_TRUSTED: 'false',
    DATABASE_POOL_SIZE: '20',
  });
  try {
    await migrate(stack.postgres.url);
    log(
      `worker serving after ${(await stack.worker.start()).toFixed(0)} ms, API after ${(await stack.api.start()).toFixed(0)} ms`,
    );
    return await run(stack);
  } finally {
    await stack.stop();
    if (!options.keep) spawnSync('rm', ['-rf', workDir]);
  }
}

async function run(stack: ChaosStack): Promise<number> {
  const client = new Client(stack.baseUrl);
  const prisma = createPrisma(stack.postgres.url, 4);
  const password = 'chaos password 1';
  const hash = await bcrypt.hash(password, 4);
  const adminEmail = `chaos-admin-${randomUUID()}@example.test`;
  await prisma.user.create({
    data: { id: randomUUID(), email: adminEmail, name: 'Chaos admin', role: 'ADMIN', passwordHash: hash },
  });
  const admin = (await client.call('POST', '/api/auth/login', { email: adminEmail, password })).body.token as string;
  const adminId = (await prisma.user.findUniqueOrThrow({ where: { email: adminEmail } })).id;
  const customers: { id: string; email: string; token: string }[] = [];
  for (let i = 0; i < options.customers; i++) {
    const email = `chaos-${i}-${randomUUID()}@example.test`;
    const id = randomUUID();
    await prisma.user.create({ data: { id, email, name: `Chaos ${i}`, role: 'CUSTOMER', passwordHash: hash } });
    customers.push({
      id,
      email,
      token: (await client.call('POST', '/api/auth/login', { email, password })).body.token,
    });
  }
  const products: { id: string; initialStock: number; price: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const created = await client.call(
      'POST',
      '/admin/products',
      {
        sku: `CHAOS-${i}-${randomUUID().slice(0, 6)}`,
        name: `Chaos ${i}`,
        price: 1000 + i * 250,
        currency: 'USD',
        stock: 100_000,
      },
      admin,
    );
    if (created.status !== 201) throw new Error(`product: ${created.status} ${JSON.stringify(created.body)}`);
    products.push({ id: created.body.id, initialStock: 100_000, price: created.body.price });
  }

  const accepted: AcceptedOrder[] = [];
  const goodwillKeys: string[] = [];
  const unanswered: string[] = [];
  const stripe = new Stripe('sk_test_chaos');
  const deliver = async (event: Record<string, unknown>) => {
    const payload = JSON.stringify(event);
    // Signed afresh for each delivery, as Stripe does.
    for (;;) {
      const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
      const answer = await client.call('POST', '/api/payments/stripe/webhook', payload, undefined, {
        'content-type': 'application/json',
        'stripe-signature': signature,
      });
      if (answer.status === 200) return;
      throw new Error(`webhook answered ${answer.status} ${JSON.stringify(answer.body)}`);
    }
  };
  const intentEvent = (type: string, intent: string, orderId: string, amount: number, created: number) => ({
    id: `evt_${randomUUID().replace(/-/g, '')}`,
    object: 'event',
    type,
    created,
    data: {
      object: {
        id: intent,
        object: 'payment_intent',
        amount,
        amount_received: type === 'payment_intent.succeeded' ? amount : 0,
        currency: 'usd',
        status: type === 'payment_intent.succeeded' ? 'succeeded' : 'requires_payment_method',
        metadata: { orderId },
        last_payment_error: type === 'payment_intent.succeeded' ? null : { code: 'card_declined', message: 'declined' },
      },
    },
  });

  /** A checkout with an Idempotency-Key, retried until answered; a double click sometimes. */
  const checkout = async (token: string, body: Record<string, unknown>) => {
    const headers = { 'idempotency-key': randomUUID() };
    const attempts = Math.random() < 0.2 ? 2 : 1;
    const answers = await Promise.all(
      Array.from({ length: attempts }, () => client.call('POST', '/api/checkout', body, token, headers)),
    );
    const placed = answers.find((a) => a.status === 201);
    if (!placed) throw new Error(`checkout: ${answers.map((a) => `${a.status} ${a.body.error?.code}`).join(', ')}`);
    if (answers.some((a) => a.status === 201 && a.body.orderId !== placed.body.orderId)) {
      throw new Error('a retried checkout answered two orders');
    }
    return placed.body;
  };
  const untilStatus = async (orderId: string, token: string, status: string) => {
    const deadline = Date.now() + CLIENT_PATIENCE_MS;
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      const order = await client.call('GET', `/api/orders/${orderId}`, undefined, token);
      if (order.body.status === status) return order.body;
      await pause(Math.min(retryDelayMs(attempt), 4_000));
    }
    throw new Error(`order ${orderId} did not reach ${status}`);
  };

  /**
   * The PaymentIntent a card order pays with, as a client learns it through the API: the
   * checkout's clientSecret (what Stripe.js confirms with) is the intent's id and a secret; a
   * checkout answered without it (a retry answered from a finished workflow) leaves the client to
   * look at the order, whose live view names the intent once its workflow has opened it. A view
   * answered from the database while Temporal is slow may not name it yet: the client asks again
   * (backing off) rather than paying an intent it does not know.
   */
  const paymentIntentOf = async (orderId: string, token: string, clientSecret?: string): Promise<string> => {
    const fromSecret = /^(pi_[A-Za-z0-9]+)_secret_/.exec(clientSecret ?? '')?.[1];
    if (fromSecret) return fromSecret;
    const deadline = Date.now() + CLIENT_PATIENCE_MS;
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      const order = await client.call('GET', `/api/orders/${orderId}`, undefined, token);
      const intent =
        (order.body.paymentIntentId as string | undefined) ??
        (order.body.payments as { provider: string; providerPaymentId: string | null }[] | undefined)?.find(
          (p) => p.provider === 'STRIPE' && p.providerPaymentId,
        )?.providerPaymentId;
      if (intent) return intent;
      await pause(retryDelayMs(attempt));
    }
    throw new Error(`order ${orderId} never named its PaymentIntent`);
  };

  const flow = async (index: number): Promise<void> => {
    const customer = customers[index % customers.length];
    const product = products[index % products.length];
    const quantity = 1 + (index % 2);
    const amount = product.price * quantity;
    const roll = Math.random();
    const kind: Flow = roll < 0.45 ? 'card' : roll < 0.65 ? 'cod' : roll < 0.85 ? 'wallet' : 'refund';
    const items = [{ productId: product.id, quantity }];
    try {
      if (kind === 'wallet') {
        const key = randomUUID();
        const credit = await client.call(
          'POST',
          `/admin/wallets/${customer.id}/credit`,
          { amount, reason: 'chaos goodwill', currency: 'USD' },
          admin,
          { 'idempotency-key': key },
        );
        if (credit.status !== 201) throw new Error(`goodwill credit: ${credit.status} ${JSON.stringify(credit.body)}`);
        goodwillKeys.push(`goodwill-${adminId}-${key}`);
        const placed = await checkout(customer.token, { items, paymentMethod: 'wallet' });
        accepted.push({
          orderId: placed.orderId,
          flow: 'wallet',
          customerEmail: customer.email,
          productId: product.id,
          quantity,
        });
        return;
      }
      if (kind === 'cod') {
        const placed = await checkout(customer.token, { items, paymentMethod: 'cod' });
        accepted.push({
          orderId: placed.orderId,
          flow: 'cod',
          customerEmail: customer.email,
          productId: product.id,
          quantity,
        });
        return;
      }
      const placed = await checkout(customer.token, { items, paymentMethod: 'card' });
      const record: AcceptedOrder = {
        orderId: placed.orderId,
        flow: kind,
        customerEmail: customer.email,
        productId: product.id,
        quantity,
      };
      accepted.push(record);
      const intent = await paymentIntentOf(placed.orderId, customer.token, placed.clientSecret);
      const now = Math.floor(Date.now() / 1000);
      const succeeded = intentEvent('payment_intent.succeeded', intent, placed.orderId, amount, now);
      const declined = intentEvent('payment_intent.payment_failed', intent, placed.orderId, amount, now - 30);
      record.eventIds = [succeeded.id, declined.id];
      // An earlier declined attempt's news arrives after the success, and the success twice.
      await deliver(succeeded);
      await deliver(declined);
      await deliver(succeeded);
      if (kind === 'card') return;
      await untilStatus(placed.orderId, customer.token, 'CONFIRMED');
      // Retried with its Idempotency-Key through 5xx and lost answers: one request however often it is sent.
      const requested = await client.call(
        'POST',
        `/api/orders/${placed.orderId}/refunds`,
        { reason: 'chaos: changed my mind', destination: 'WALLET' },
        customer.token,
        { 'idempotency-key': `chaos-refund-${placed.orderId}` },
      );
      const refundId = requested.status === 202 ? (requested.body.refundId as string | undefined) : undefined;
      if (!refundId) throw new Error(`refund request: ${requested.status} ${JSON.stringify(requested.body)}`);
      record.refundId = refundId;
      const approved = await client.call(
        'POST',
        `/admin/refunds/${refundId}/approve`,
        { reason: 'chaos approval' },
        admin,
      );
      if (approved.status !== 200 && approved.body.error?.code !== 'REFUND_ALREADY_DECIDED')
        throw new Error(`approval: ${approved.status} ${JSON.stringify(approved.body)}`);
    } catch (error) {
      unanswered.push(`${kind} flow ${index}: ${(error as Error).message}`);
    }
  };

  // The killing: the worker every few seconds; the API, Temporal and PostgreSQL once each.
  const began = Date.now();
  const loadEnds = began + options.seconds * 1000;
  const kills = { worker: 0, api: 0, temporal: 0, postgres: 0 };
  /** Kills one part with `kill -9` and brings it back (the worker has its own loop below). */
  const killOnce = async (part: Exclude<keyof typeof kills, 'worker'>, late = '') => {
    log(`kill -9 ${part}${late}`);
    kills[part]++;
    if (part === 'api')
      log(
        `API serving again after ${(await stack.api.restart()).toFixed(0)} ms (${stack.api.lastStartCpuMs} ms of CPU)`,
      );
    if (part === 'temporal') {
      await stack.temporal.kill();
      await pause(1000);
      await stack.temporal.start();
      log('Temporal restarted');
    }
    if (part === 'postgres') {
      stack.postgres.kill();
      await pause(1000);
      await stack.postgres.start();
      log('PostgreSQL restarted (crash recovery)');
    }
  };
  const killer = (async () => {
    const once: [Exclude<keyof typeof kills, 'worker'>, number][] = [
      ['api', 0.25],
      ['temporal', 0.45],
      ['postgres', 0.65],
    ];
    let nextWorker = began + options.workerKillEvery * 1000;
    while (Date.now() < loadEnds) {
      const due = once.find(([, at]) => Date.now() >= began + at * options.seconds * 1000);
      if (due) {
        once.splice(once.indexOf(due), 1);
        await killOnce(due[0]);
      } else if (Date.now() >= nextWorker) {
        kills.worker++;
        const ms = await stack.worker.restart();
        log(
          `kill -9 worker #${kills.worker}: polling again after ${ms.toFixed(0)} ms (${stack.worker.lastStartCpuMs} ms of CPU); load average ${os.loadavg()[0].toFixed(1)}`,
        );
        nextWorker = Date.now() + options.workerKillEvery * 1000;
      }
      await pause(200);
    }
    // A slow machine can push a kill past the load's end: each kind still happens once.
    for (const [part] of once) await killOnce(part, ' (late)');
  })();

  const flows: Promise<void>[] = [];
  for (let i = 0; i < options.orders; i++) {
    const at = began + (i * options.seconds * 1000) / options.orders;
    if (at > Date.now()) await pause(at - Date.now());
    flows.push(flow(i));
  }
  await killer;
  await Promise.all(flows);
  const loadDone = Date.now();
  log(
    `load done: ${accepted.length} orders accepted, ${unanswered.length} flows unanswered; kills ${JSON.stringify(kills)}`,
  );
  for (const line of unanswered.slice(0, 20)) log(`  unanswered: ${line}`);

  const expectations = { orders: accepted, goodwillKeys, products };
  const check = (moving?: StillMoving) =>
    checkInvariants(prisma, stack.smtp.messages, expectations, moving).catch((error: Error): Verdict => ({
      expected: 0,
      lost: accepted.length,
      doubled: 0,
      unsettled: 0,
      redelivered: 0,
      problems: [`check failed: ${error.message}`],
    }));
  let verdict: Verdict;
  const settleBy = loadDone + options.settle * 1000;
  for (;;) {
    verdict = await check();
    if ((verdict.lost === 0 && verdict.doubled === 0) || Date.now() > settleBy) break;
    await pause(2000);
  }
  const settled = ((Date.now() - loadDone) / 1000).toFixed(1);
  const temporal = new TemporalClient({ connection: await Connection.connect({ address: stack.temporal.address }) });
  // Not settled in time: tell what is still at work (unsettled) from what nothing will bring (lost).
  if (verdict.lost > 0) verdict = await check(stillMovingIn(temporal));
  await temporal.connection.close();
  for (const problem of verdict.problems.slice(0, 40)) log(problem);
  if (verdict.unsettled > 0) log(`${countsOf(verdict.problems)}`);
  const range = (values: number[]) => `${Math.round(Math.min(...values))}-${Math.round(Math.max(...values))} ms`;
  const median = (values: number[]) => Math.round([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]);
  const restarts = ({ restarts: ms, restartCpu: cpu }: ChaosStack['worker']) =>
    ms.length
      ? `${ms.length} restarts, serving again in ${range(ms)} (median ${median(ms)} ms), using ${range(cpu)} of CPU until then`
      : 'no restarts';
  log(`worker: ${restarts(stack.worker)}; API: ${restarts(stack.api)}`);
  log(
    `load average at the end (1, 5, 15 min): ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(', ')}`,
  );
  log(
    `emails delivered ${stack.smtp.messages.length} (${verdict.redelivered} sent again after a crash with the same Message-ID); goodwill credits ${goodwillKeys.length}`,
  );
  await prisma.$disconnect();
  const crashes = [stack.api, stack.worker].flatMap((part) => part.crashes.map((crash) => `${part.name} ${crash}`));
  for (const crash of crashes) log(`crashed: ${crash}`);
  const lost = verdict.lost + unanswered.length;
  const counts = `${accepted.length} orders, ${verdict.expected} as expected, ${lost} lost, ${verdict.doubled} doubled`;
  if (verdict.unsettled > 0) {
    console.log(
      `chaos: NOT SETTLED: ${verdict.unsettled} still at work when --settle (${options.settle} s) ran out; a longer --settle or a lighter load tells whether they arrive`,
    );
    console.log(`chaos: ${counts}, ${verdict.unsettled} unsettled, not settled in ${settled} s`);
    return 1;
  }
  if (crashes.length > 0)
    console.log(
      `chaos: FAILED: ${crashes.length} exits of the API or worker nobody asked for (a defect even when nothing was lost)`,
    );
  console.log(`chaos: ${counts}, settled in ${settled} s`);
  return lost > 0 || verdict.doubled > 0 || crashes.length > 0 ? 1 : 0;
}

main()
  .then((code) => process.exit(code))
  .catch((error) => {
    console.error(error instanceof Error ? error.stack : error);
    process.exit(2);
  });
