/**
 * SIGTERM is a deploy, not a crash: the API process stops accepting connections but answers the
 * checkout it is in the middle of (its PaymentIntent held on the way to Stripe), closes its pools
 * and exits 0; the worker process finishes the activity it holds (one PaymentIntent request,
 * no retry) and exits 0, and the next worker carries the order on from its result.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort, isListening, stopProcess, waitForPort } from '../../scripts/lib/services';
import { startHoldingProxy } from '../helpers/holding-proxy';
import { HttpClient } from '../helpers/http';
import { createProduct, createUser, eventually, startWorkerProcess, useStack } from '../helpers/stack';

let proxy: Awaited<ReturnType<typeof startHoldingProxy>>;
beforeAll(async () => {
  proxy = await startHoldingProxy(process.env.STRIPE_API_BASE!);
});
const { stack, admin, beforeStop } = useStack(() => ({ env: { STRIPE_API_BASE: proxy.url } }));
const children: ChildProcess[] = [];
beforeStop(() => Promise.all(children.map((child) => stopProcess(child, 'SIGKILL'))));
afterAll(() => proxy.close()); // after the stack stops

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

function released(): { gate: Promise<void>; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  return { gate, release };
}

test('SIGTERM to the API mid-checkout: no new connections, the checkout is answered, exit 0', async () => {
  const port = await freePort();
  const api = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', '..', 'src', 'api', 'main.ts')], {
    env: { ...stack.env, PORT: String(port), LOG_LEVEL: 'silent' },
    stdio: 'ignore',
  });
  children.push(api);
  await waitForPort(port, 'API', api);
  const client = new HttpClient(`http://127.0.0.1:${port}`);
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 5, price: 1200 });

  const { gate, release } = released();
  const arrived = proxy.delayNext('POST', '/v1/payment_intents', gate);
  const checkout = client.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
    customer.token,
  );
  await arrived; // the checkout is in flight: its PaymentIntent waits on the way to Stripe
  const exited = exitOf(api);
  api.kill('SIGTERM');
  await eventually(async () => !(await isListening(port)), 'the API to stop accepting connections');
  release();

  const answer = await checkout;
  expect(answer.status).toBe(201);
  expect(answer.body.clientSecret).toEqual(expect.any(String));
  expect(await exited).toBe(0);
});

test('SIGTERM to the worker mid-activity: the activity finishes once, the worker exits 0', async () => {
  await stack.stopWorker();
  const worker = await startWorkerProcess(stack);
  children.push(worker);
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 5, price: 1300 });

  const { gate, release } = released();
  const arrived = proxy.delayNext('POST', '/v1/payment_intents', gate);
  const before = proxy.forwarded.filter((route) => route === 'POST /v1/payment_intents').length;
  const checkout = stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
    customer.token,
  );
  await arrived;
  const exited = exitOf(worker);
  worker.kill('SIGTERM');
  release();

  expect(await exited).toBe(0);
  // As in a rolling deploy, the next worker carries the workflow on from the activity's result.
  children.push(await startWorkerProcess(stack));
  const answer = await checkout;
  expect(answer.status).toBe(201);
  // The activity the worker held completed: nobody had to retry it.
  expect(proxy.forwarded.filter((route) => route === 'POST /v1/payment_intents').length - before).toBe(1);
});
