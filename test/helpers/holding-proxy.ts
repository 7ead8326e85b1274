/**
 * An HTTP hop between the worker and stripe-mock that can hold one kind of request in flight:
 * the request has left the worker but has not reached Stripe. A test uses it to kill the worker
 * in exactly that moment. Everything else is passed through unchanged (and noted, with the API key it
 * carried); answers come from stripe-mock.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function startHoldingProxy(target: string) {
  const upstream = new URL(target);
  const forwarded: string[] = [];
  const apiKeys: string[] = [];
  let hold: { method: string; path: string; notify: () => void } | undefined;
  const held: ServerResponse[] = [];

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const key = `${req.method} ${req.url?.split('?')[0]}`;
    if (hold && key === `${hold.method} ${hold.path}`) {
      held.push(res); // never answered: the connection dies with the worker
      hold.notify();
      hold = undefined;
      return;
    }
    forwarded.push(key);
    apiKeys.push((req.headers.authorization ?? '').replace(/^Bearer /, ''));
    const outbound = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    outbound.on('error', () => res.destroy());
    req.pipe(outbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Requests that reached stripe-mock, as "METHOD /path". */
    forwarded,
    /** The API key each forwarded request carried, in the same order. */
    apiKeys,
    /** Holds the next `method path` request; resolves once it has arrived. */
    holdNext(method: string, path: string): Promise<void> {
      return new Promise((resolve) => (hold = { method, path, notify: resolve }));
    },
    close: () =>
      new Promise<void>((resolve) => {
        held.forEach((res) => res.destroy());
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
