/**
 * A whole running system for one test file, with everything real: a worker (in this process,
 * or none when the test runs its own), the Express API on a free port, an SMTP listener, all on
 * a task queue of their own against the shared Temporal server, stripe-mock and PostgreSQL.
 */
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { NativeConnection, type Worker } from '@temporalio/worker';
import bcrypt from 'bcryptjs';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type Stripe from 'stripe';
import type { Activities } from '../../src/activities';
import { createApp } from '../../src/api/app';
import { loadConfig, type Config } from '../../src/platform/config';
import { followDatabaseLogin } from '../../src/keys/database-login';
import { createDatabase, createPrisma, type PrismaClient } from '../../src/platform/db';
import { Keyring } from '../../src/keys/keyring';
import { createLogger } from '../../src/platform/logger';
import { keyringRazorpayGateway } from '../../src/payments/razorpay';
import { createStripe } from '../../src/payments/stripe';
import { connectClient, temporalConnectionOptions } from '../../src/platform/temporal';
import { createOrderWorker } from '../../src/workers/worker';
import { startRazorpaySandbox } from '../../scripts/lib/razorpay-sandbox';
import { freePort, startSmtpListener } from '../../scripts/lib/services';
import { migrate } from '../../scripts/migrate';
import { dropDatabase } from '../../scripts/lib/databases';
import { HttpClient } from './http';

export interface Stack {
  config: Config;
  env: NodeJS.ProcessEnv;
  prisma: PrismaClient;
  temporal: Client;
  stripe: Stripe;
  http: HttpClient;
  smtp: Awaited<ReturnType<typeof startSmtpListener>>;
  /** Every line the API logged, as the deployed API's logger writes it (redactions included). */
  apiLogs: string[];
  razorpay: Awaited<ReturnType<typeof startRazorpaySandbox>>;
  startWorker: (options?: { wrapActivities?: (activities: Activities) => Activities }) => Promise<void>;
  stopWorker: () => Promise<void>;
  stop: () => Promise<void>;
}

export interface StackOptions {
  env?: Record<string, string>;
  worker?: boolean;
  isolatedDatabase?: boolean;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  // A database of its own, for tests that count across a whole table (webhook health).
  let isolated: string | undefined;
  if (options.isolatedDatabase) {
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = `/${url.pathname.slice(1)}_${randomUUID().slice(0, 8)}`;
    isolated = url.toString();
    await migrate(isolated);
    options = { ...options, env: { ...options.env, DATABASE_URL: isolated } };
  }
  const smtp = await startSmtpListener();
  const base = loadConfig({ ...process.env, ...options.env });
  const razorpay = await startRazorpaySandbox({ keyId: base.RAZORPAY_KEY_ID, keySecret: base.RAZORPAY_KEY_SECRET });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`,
    SMTP_URL: smtp.url,
    RAZORPAY_API_BASE: razorpay.baseUrl,
    PORT: '0',
    // A worker process started by a test serves no metrics unless the test asks (ports shared by all).
    METRICS_PORT: '0',
    TEMPORAL_SDK_METRICS_PORT: '0',
    ...options.env,
  };
  const config = loadConfig(env);
  // The test's own view of the database, apart from the API's (whose login may rotate).
  const prisma = createPrisma(config.DATABASE_URL, 10);
  // 20 connections unless the test sizes the pool itself (the pool exhaustion test).
  const api = createDatabase(
    config.DATABASE_URL,
    options.env?.DATABASE_POOL_SIZE ? config.DATABASE_POOL_SIZE : 20,
    config.DATABASE_ACQUIRE_TIMEOUT,
  );
  const apiLogs: string[] = [];
  const logger = createLogger({ write: (line: string) => void apiLogs.push(line) }, 'info');
  const keyring = new Keyring(api.prisma, config).listen(logger);
  const stopFollowing = await followDatabaseLogin(
    api.pool,
    keyring,
    config.DATABASE_LOGIN_REFRESH,
    pino({ level: 'silent' }),
  );
  const temporal = await connectClient(config);
  const stripe = createStripe(config, keyring);
  const app = createApp({
    config,
    prisma: api.prisma,
    temporal,
    stripe,
    razorpay: keyringRazorpayGateway(config, keyring),
    logger,
    keyring,
    pool: api.pool,
  });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let running:
    { worker: Worker; done: Promise<void>; connection: NativeConnection; close: () => Promise<void> } | undefined;
  async function startWorker(
    workerOptions: { wrapActivities?: (activities: Activities) => Activities } = {},
  ): Promise<void> {
    const connection = await NativeConnection.connect(temporalConnectionOptions(config));
    const { worker, close } = await createOrderWorker({
      config,
      connection,
      workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE_PATH! },
      wrapActivities: workerOptions.wrapActivities,
    });
    running = { worker, connection, close, done: worker.run() };
  }
  async function stopWorker(): Promise<void> {
    if (!running) return;
    const { worker, done, connection, close } = running;
    running = undefined;
    worker.shutdown();
    await done;
    await close();
    await connection.close();
  }
  if (options.worker !== false) await startWorker();

  return {
    config,
    env,
    prisma,
    temporal,
    stripe,
    smtp,
    apiLogs,
    razorpay,
    http: new HttpClient(baseUrl),
    startWorker,
    stopWorker,
    async stop() {
      await stopWorker();
      await new Promise((resolve) => server.close(resolve));
      await temporal.connection.close();
      stopFollowing();
      await keyring.close();
      await api.prisma.$disconnect();
      await prisma.$disconnect();
      await smtp.close();
      await razorpay.close();
      if (isolated) await dropDatabase(isolated);
    },
  };
}

export interface TestUser {
  id: string;
  email: string;
  token: string;
}

/** A new user with the given role, signed in through the API. */
export async function createUser(stack: Stack, role: 'CUSTOMER' | 'ADMIN' = 'CUSTOMER'): Promise<TestUser> {
  const email = `${role.toLowerCase()}-${randomUUID()}@example.test`;
  const password = 'correct horse battery staple';
  const user = await stack.prisma.user.create({
    data: {
      id: randomUUID(),
      email,
      name: `Test ${role.toLowerCase()}`,
      role,
      passwordHash: await bcrypt.hash(password, 4),
    },
  });
  const login = await stack.http.post('/api/auth/login', { email, password });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  return { id: user.id, email, token: login.body.token };
}

/** A new product stocked through the admin API. */
export async function createProduct(
  stack: Stack,
  admin: TestUser,
  fields: { stock: number; price?: number; currency?: string },
): Promise<{ id: string; sku: string; price: number }> {
  const sku = `SKU-${randomUUID().slice(0, 8)}`;
  const response = await stack.http.post(
    '/admin/products',
    {
      sku,
      name: `Product ${sku}`,
      price: fields.price ?? 2500,
      currency: fields.currency ?? 'USD',
      stock: fields.stock,
    },
    admin.token,
  );
  if (response.status !== 201)
    throw new Error(`product creation failed: ${response.status} ${JSON.stringify(response.body)}`);
  return { id: response.body.id, sku, price: response.body.price };
}

/** Polls `probe` until it returns a truthy value (condition-based waiting; no fixed sleeps). */
export async function eventually<T>(
  probe: () => Promise<T | undefined | null | false>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** The order as its owner (or an admin) sees it through the API. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function orderOf(stack: Stack, orderId: string, token: string): Promise<any> {
  const { status, body } = await stack.http.get(`/api/orders/${orderId}`, token);
  if (status !== 200) throw new Error(`GET /api/orders/${orderId}: ${status} ${JSON.stringify(body)}`);
  return body;
}

/** Waits until the order, as the API shows it, satisfies `ready`; answers it. */
export async function untilOrder(
  stack: Stack,
  orderId: string,
  token: string,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  ready: (order: any) => boolean,
  what: string,
) {
  return eventually(async () => {
    const order = await orderOf(stack, orderId, token);
    return ready(order) && order;
  }, what);
}

/** Units of a product the catalogue shows as available. */
export async function availableOf(stack: Stack, productId: string): Promise<number> {
  const { body } = await stack.http.get(`/api/products/${productId}`);
  return body.availableStock;
}

/** Emails to `email` whose subject ends with `suffix` ("confirmed", "shipped", ...). */
export function mailsTo(stack: Stack, email: string, suffix: string) {
  return stack.smtp.messages.filter((m) => m.to.includes(email) && m.subject.endsWith(suffix));
}

/**
 * Starts the production worker entrypoint as a process of its own; resolves once it polls.
 * Its log lines (JSON) are pushed to `lines` when given.
 */
export async function startWorkerProcess(stack: Stack, lines?: string[]): Promise<ChildProcess> {
  return startProcess(path.join('src', 'workers', 'main.ts'), stack.env, 'worker started', lines);
}

/**
 * Starts the production API entrypoint (src/api/main.ts) as a process of its own on a free port,
 * beside the stack's in-process API; resolves once it listens. Its log lines go to `lines` when given.
 */
export async function startApiProcess(
  stack: Stack,
  lines?: string[],
): Promise<{ process: ChildProcess; http: HttpClient }> {
  const port = await freePort();
  const child = await startProcess(
    path.join('src', 'api', 'main.ts'),
    { ...stack.env, PORT: String(port) },
    'API listening',
    lines,
  );
  return { process: child, http: new HttpClient(`http://127.0.0.1:${port}`) };
}

async function startProcess(
  entry: string,
  env: NodeJS.ProcessEnv,
  ready: string,
  lines?: string[],
): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', '..', entry)], {
    env: { ...env, LOG_LEVEL: 'info' }, // the line waited for is logged at info
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let partial = '';
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${entry} exited with ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const complete = text.split('\n');
      partial = complete.pop()!;
      lines?.push(...complete.filter(Boolean));
      if (text.includes(ready)) resolve();
    });
  });
  return child;
}

/**
 * An e2e file's preamble: its stack (startStack's options) and an admin signed in, started before
 * the file's tests and stopped after them. `const { stack, admin } = useStack(...)` at the top of
 * the file; both are filled in by the time a test runs.
 *
 * `options` may be a function, called when the stack starts, for options that name something a
 * `beforeAll` declared above started first (a proxy's URL, a Temporal server's address).
 * `beforeStop(cleanup)` runs `cleanup` after the file's tests but before the stack stops (a worker
 * process killed, a schedule deleted): Jest runs `afterAll` hooks in the order they are declared,
 * so one declared below useStack runs once the stack is gone (the place for what must outlive it).
 */
export function useStack(options: StackOptions | (() => StackOptions | Promise<StackOptions>) = {}): {
  stack: Stack;
  admin: TestUser;
  beforeStop: (cleanup: () => unknown) => void;
} {
  const stack = {} as Stack;
  const admin = {} as TestUser;
  const cleanups: (() => unknown)[] = [];
  let started = false;
  beforeAll(async () => {
    Object.assign(stack, await startStack(typeof options === 'function' ? await options() : options));
    started = true;
    Object.assign(admin, await createUser(stack, 'ADMIN'));
  });
  afterAll(async () => {
    try {
      for (const cleanup of cleanups) await cleanup();
    } finally {
      if (started) await stack.stop();
    }
  });
  return { stack, admin, beforeStop: (cleanup) => void cleanups.push(cleanup) };
}

/**
 * Another user of the file's stack (a customer, a second admin), signed in before the file's
 * tests: `const customer = useUser(stack)` below useStack; filled in by the time a test runs.
 */
export function useUser(stack: Stack, role: 'CUSTOMER' | 'ADMIN' = 'CUSTOMER'): TestUser {
  const user = {} as TestUser;
  beforeAll(async () => {
    Object.assign(user, await createUser(stack, role));
  });
  return user;
}

/** Runs the ops CLI (scripts/ops.ts) against the stack as `actorEmail`; answers its exit code and output. */
export async function runOps(
  stack: Stack,
  actorEmail: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  return runOpsWithInput(stack, actorEmail, '', ...args);
}

/** runOps() with `input` on the CLI's standard input (a secret pasted in); no `--actor` when `actorEmail` is empty. */
export async function runOpsWithInput(
  stack: Stack,
  actorEmail: string,
  input: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const actor = actorEmail ? ['--actor', actorEmail] : [];
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, '..', '..', 'scripts', 'ops.ts'), ...actor, ...args],
      { env: { ...stack.env, OPS_ACTOR: '', LOG_LEVEL: 'silent' } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input);
  });
}

/**
 * A workflow's history as Temporal stores it, as text with every payload's bytes read as UTF-8:
 * whatever a payload holds in clear text is in here verbatim (encrypted payloads are not).
 */
export async function storedHistoryText(stack: Stack, workflowId: string): Promise<string> {
  const { history } = await stack.temporal.workflowService.getWorkflowExecutionHistory({
    namespace: stack.config.TEMPORAL_NAMESPACE,
    execution: { workflowId },
  });
  // The protobuf messages render bytes as base64 strings; payload bytes are under `data`.
  return JSON.stringify(history, (key, value: unknown) =>
    key === 'data' && typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : value,
  );
}

/**
 * A workflow's history with every payload decoded by our codec, as text: what an admin sees in
 * the Web UI. A secret absent from this was never handed to Temporal at all.
 */
export async function decodedHistoryText(stack: Stack, workflowId: string): Promise<string> {
  const history = await stack.temporal.workflow.getHandle(workflowId).fetchHistory();
  const codecs = stack.temporal.options.loadedDataConverter.payloadCodecs;
  const payloads: Payload[] = [];
  const collect = (value: unknown): void => {
    if (!value || typeof value !== 'object' || ArrayBuffer.isView(value)) return;
    // Sealed payloads only: search attributes (and anything written in clear) are read as they are.
    if ('data' in value && 'metadata' in value) {
      const encoding = (value as Payload).metadata?.encoding;
      if (encoding && Buffer.from(encoding).toString() === 'binary/encrypted') payloads.push(value as Payload);
    } else Object.values(value).forEach(collect);
  };
  collect(history);
  for (const payload of payloads) {
    const [decoded] = await codecs.reduceRight(
      async (acc, codec) => codec.decode(await acc),
      Promise.resolve([payload]),
    );
    Object.assign(payload, decoded);
  }
  return JSON.stringify(history, (key, value: unknown) =>
    key === 'data' && typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : value,
  );
}
