/**
 * The worker's /metrics endpoint stays up when a collector fails: the scrape answers 500 and
 * the process goes on (an unhandled rejection there would stop the worker).
 */
import client from 'prom-client';
import type { Server } from 'node:http';
import { portOf, startMetricsServer } from '../../src/monitoring/metrics-server';
import { registry } from '../../src/monitoring/metrics';

let server: Server;
afterAll(() => new Promise((resolve) => server.close(resolve)));

test('a collector that throws fails the scrape with a 500, and the next scrape is served', async () => {
  server = await startMetricsServer(0, 0, '127.0.0.1');
  const base = `http://127.0.0.1:${portOf(server)}`;
  new client.Gauge({
    name: 'test_failing_gauge',
    help: 'throws on collect',
    registers: [registry],
    collect() {
      throw new Error('collector broke');
    },
  });
  const broken = await fetch(`${base}/metrics`);
  expect(broken.status).toBe(500);
  expect(await broken.text()).toContain('collector broke');

  registry.removeSingleMetric('test_failing_gauge');
  const served = await fetch(`${base}/metrics`);
  expect(served.status).toBe(200);
  expect(await served.text()).toContain('durable_commerce_db_connections');
});
