/**
 * The worker's GET /metrics on METRICS_PORT: our registry (business counters, pool, process)
 * followed by the Temporal SDK's own metrics (task latencies, slots, sticky cache). The SDK's
 * exporter is Rust code with an HTTP server of its own; it listens on loopback only
 * (TEMPORAL_SDK_METRICS_PORT) and this endpoint fetches and appends its text, so Prometheus
 * scrapes one target per worker.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metricsText, registry } from './metrics';

/** The address Runtime.install's Prometheus exporter binds (loopback: nobody scrapes it directly). */
export const sdkMetricsAddress = (port: number) => `127.0.0.1:${port}`;

async function sdkMetrics(port: number): Promise<string> {
  if (!port) return '';
  try {
    const response = await fetch(`http://${sdkMetricsAddress(port)}/metrics`, { signal: AbortSignal.timeout(2000) });
    return response.ok ? await response.text() : '';
  } catch {
    return '# the Temporal SDK metrics exporter did not answer\n';
  }
}

/** Starts the worker's metrics endpoint; resolves with the server once it listens. */
export async function startMetricsServer(port: number, sdkPort: number, host = '0.0.0.0'): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/metrics' && req.url !== '/livez')) {
      res.writeHead(404).end();
      return;
    }
    if (req.url === '/livez') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    // A collector that throws fails this scrape with a 500; left as a rejection, it would stop the worker.
    sdkMetrics(sdkPort)
      .then((sdk) => metricsText(sdk))
      .then(
        (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
        (error: unknown) =>
          res
            .writeHead(500, { 'content-type': 'text/plain' })
            .end(`# metrics not collected: ${(error as Error).message}\n`),
      );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

export const portOf = (server: Server) => (server.address() as AddressInfo).port;
