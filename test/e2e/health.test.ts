/**
 * /livez, /readyz and /health over HTTP: readiness follows PostgreSQL and Temporal only (a
 * Temporal dev server of this test's own is stopped and started again on the same port and
 * database file), and /health probes each provider at most once per cache interval however
 * often it is hit.
 */
import path from 'node:path';
import { freePort, startTemporalDevServer, stopProcess, type TemporalDevServer } from '../../scripts/lib/services';
import { startHoldingProxy } from '../helpers/holding-proxy';
import { eventually, useStack } from '../helpers/stack';

describe('health against the shared Temporal server, Stripe through a counting hop', () => {
  let stripeHop: Awaited<ReturnType<typeof startHoldingProxy>>;
  beforeAll(async () => {
    stripeHop = await startHoldingProxy(process.env.STRIPE_API_BASE!);
  });
  const { stack } = useStack(() => ({
    worker: false,
    env: { STRIPE_API_BASE: stripeHop.url, HEALTH_PROVIDER_CACHE_TTL: '1h' },
  }));
  afterAll(() => stripeHop.close()); // after the stack stops

  test('/livez and /readyz answer 200 with database and Temporal up', async () => {
    expect(await stack.http.get('/livez')).toMatchObject({ status: 200, body: { status: 'ok' } });
    const ready = await stack.http.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { database: 'up', temporal: 'up' } });
  });

  test('50 hits on /health, at once and one after another, call Stripe once', async () => {
    const balanceCalls = () => stripeHop.forwarded.filter((route) => route === 'GET /v1/balance').length;
    const burst = await Promise.all(Array.from({ length: 25 }, () => stack.http.get('/health')));
    for (let i = 0; i < 25; i += 1) burst.push(await stack.http.get('/health'));
    expect(burst.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(burst[49].body).toEqual({
      status: 'healthy',
      checks: { database: 'up', temporal: 'up', stripe: 'up', razorpay: 'up' },
    });
    expect(balanceCalls()).toBe(1);
    // Readiness never asks a provider.
    await stack.http.get('/readyz');
    expect(balanceCalls()).toBe(1);
  });
});

describe('readiness while Temporal is stopped and started again', () => {
  let temporal: TemporalDevServer;
  let options: { port: number; dbFile: string; logFile: string };
  beforeAll(async () => {
    const dir = process.env.TEST_WORK_DIR!;
    options = {
      port: await freePort(),
      dbFile: path.join(dir, `readyz-${process.pid}.db`),
      logFile: path.join(dir, `readyz-${process.pid}.log`),
    };
    temporal = await startTemporalDevServer(options);
  });
  const { stack } = useStack(() => ({
    worker: false,
    env: { TEMPORAL_ADDRESS: temporal.address, HEALTH_CHECK_TIMEOUT: '2s' },
  }));
  afterAll(() => stopProcess(temporal.process)); // after the stack stops

  test('/readyz is 503 naming Temporal while it is down, 200 once it is back; /livez stays 200', async () => {
    expect((await stack.http.get('/readyz')).status).toBe(200);
    await stopProcess(temporal.process);

    const down = await stack.http.get('/readyz');
    expect(down.status).toBe(503);
    expect(down.body).toEqual({ status: 'unready', checks: { database: 'up', temporal: 'down' } });
    expect((await stack.http.get('/livez')).status).toBe(200);

    temporal = await startTemporalDevServer(options);
    const back = await eventually(
      async () => {
        const answer = await stack.http.get('/readyz');
        return answer.status === 200 && answer;
      },
      'readyz 200 again',
      60_000,
    );
    expect(back.body).toEqual({ status: 'ready', checks: { database: 'up', temporal: 'up' } });
  });
});
