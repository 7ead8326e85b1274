/**
 * Graceful stop of an HTTP server on SIGTERM (a deploy, a scale-down): stop accepting
 * connections at once, let the requests in flight finish (a checkout waiting on its workflow
 * still gets its answer), then close the pools. Keep-alive connections are told to close with
 * their last answer, so no client is left holding a connection to a stopped process. After
 * `timeoutMs` whatever is left is cut and the process exits 1, so a stop is always bounded.
 */
import type { Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';

export function stopGracefully(
  server: Server,
  options: { timeoutMs: number; logger: Logger; cleanup: () => Promise<void> },
): (signal: string) => void {
  const inFlight = new Set<ServerResponse>();
  let stopping = false;
  server.on('request', (_request, response: ServerResponse) => {
    if (stopping && !response.headersSent) response.setHeader('connection', 'close');
    inFlight.add(response);
    response.once('close', () => inFlight.delete(response));
  });
  return (signal) => {
    if (stopping) return;
    stopping = true;
    options.logger.info(
      { signal, inFlight: inFlight.size },
      'stopping: no new connections, finishing requests in flight',
    );
    for (const response of inFlight) if (!response.headersSent) response.setHeader('connection', 'close');
    const cut = setTimeout(() => {
      options.logger.error({ inFlight: inFlight.size }, 'shutdown timed out: cutting the requests still in flight');
      server.closeAllConnections();
      process.exit(1);
    }, options.timeoutMs);
    cut.unref();
    server.close(() => {
      options
        .cleanup()
        .then(() => {
          options.logger.info('stopped');
          process.exit(0);
        })
        .catch((error: unknown) => {
          options.logger.error({ err: error }, 'closing pools failed');
          process.exit(1);
        });
    });
    server.closeIdleConnections();
  };
}
