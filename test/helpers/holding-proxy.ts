/**
 * An HTTP hop between the worker and stripe-mock, for the moments stripe-mock cannot stage:
 * a request held in flight (it has left the worker but not reached Stripe, forever or until a test lets it go), an answer lost on
 * the way back (Stripe acted, the worker never heard), a refusal of the kind Stripe gives for
 * requests that are valid in form (a charge already refunded), or stripe-mock's stateless answer
 * moved on to the state a real Stripe would hold (a PaymentIntent the customer has since paid). Everything else is passed through
 * unchanged and noted, with the API key and Idempotency-Key it carried; answers come from stripe-mock.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Trap =
  | { kind: 'hold'; notify: () => void }
  | { kind: 'delay'; notify: () => void; until: Promise<void> }
  | { kind: 'drop-answer'; notify: () => void }
  | { kind: 'refuse'; status: number; error: Record<string, unknown> }
  | { kind: 'rewrite'; rewrite: (answer: Record<string, unknown>) => Record<string, unknown> };

export interface ForwardedRequest {
  /** "METHOD /path" */
  route: string;
  apiKey: string;
  idempotencyKey?: string;
  /** The form-encoded parameters sent (Stripe's API takes `metadata[orderId]=...`), once the body has arrived. */
  params: URLSearchParams;
}

export async function startHoldingProxy(target: string) {
  const upstream = new URL(target);
  const requests: ForwardedRequest[] = [];
  const traps = new Map<string, Trap>();
  const held: ServerResponse[] = [];

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const route = `${req.method} ${req.url?.split('?')[0]}`;
    const trap = traps.get(route);
    traps.delete(route);
    if (trap?.kind === 'delay') {
      req.pause(); // its body waits with it
      trap.notify();
      void trap.until.then(() => forward(req, res, route, undefined));
      return;
    }
    forward(req, res, route, trap);
  });
  const forward = (req: IncomingMessage, res: ServerResponse, route: string, trap: Trap | undefined) => {
    if (trap?.kind === 'hold') {
      held.push(res); // never answered: the connection dies with the worker
      trap.notify();
      return;
    }
    if (trap?.kind === 'refuse') {
      res.writeHead(trap.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: trap.error }));
      return;
    }
    const noted: ForwardedRequest = {
      route,
      apiKey: (req.headers.authorization ?? '').replace(/^Bearer /, ''),
      idempotencyKey: req.headers['idempotency-key'] as string | undefined,
      params: new URLSearchParams(),
    };
    requests.push(noted);
    const body: Buffer[] = [];
    req.on('data', (chunk: Buffer) => body.push(chunk));
    req.on('end', () => (noted.params = new URLSearchParams(Buffer.concat(body).toString())));
    const outbound = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        if (trap?.kind === 'drop-answer') {
          answer.resume();
          res.destroy(); // Stripe has acted; the caller sees a broken connection
          trap.notify();
          return;
        }
        if (trap?.kind === 'rewrite') {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => {
            const body = JSON.stringify(trap.rewrite(JSON.parse(Buffer.concat(chunks).toString())));
            const { 'content-length': _length, ...headers } = answer.headers;
            res.writeHead(answer.statusCode ?? 502, headers).end(body);
          });
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    outbound.on('error', () => res.destroy());
    req.pipe(outbound);
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const arrival = (route: string, kind: 'hold' | 'drop-answer') =>
    new Promise<void>((resolve) => traps.set(route, { kind, notify: resolve }));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Requests that reached stripe-mock, in order. */
    requests,
    /** Requests that reached stripe-mock, as "METHOD /path". */
    get forwarded(): string[] {
      return requests.map((r) => r.route);
    },
    /** The API key each forwarded request carried, in the same order. */
    get apiKeys(): string[] {
      return requests.map((r) => r.apiKey);
    },
    /** Holds the next `method path` request; resolves once it has arrived. */
    holdNext: (method: string, path: string) => arrival(`${method} ${path}`, 'hold'),
    /** Holds the next `method path` request until `until` resolves, then passes it on; resolves once it has arrived. */
    delayNext: (method: string, path: string, until: Promise<void>) =>
      new Promise<void>((resolve) => traps.set(`${method} ${path}`, { kind: 'delay', notify: resolve, until })),
    /** Passes the next `method path` request to Stripe but loses its answer; resolves once Stripe answered. */
    dropAnswerNext: (method: string, path: string) => arrival(`${method} ${path}`, 'drop-answer'),
    /** Answers the next `method path` request with a Stripe error instead of passing it on. */
    refuseNext(method: string, path: string, status: number, error: Record<string, unknown>): void {
      traps.set(`${method} ${path}`, { kind: 'refuse', status, error });
    },
    /** Passes the next `method path` request to stripe-mock and answers what `rewrite` makes of its answer. */
    rewriteNext(
      method: string,
      path: string,
      rewrite: (answer: Record<string, unknown>) => Record<string, unknown>,
    ): void {
      traps.set(`${method} ${path}`, { kind: 'rewrite', rewrite });
    },
    close: () =>
      new Promise<void>((resolve) => {
        held.forEach((res) => res.destroy());
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
