/**
 * stripe-mock is stateless: every PaymentIntent it creates has one fixture id. A real Stripe
 * gives each its own, and this system routes every Stripe event by that id (and keeps it unique
 * in `payments`), so locally and in tests a hop in front of stripe-mock gives each created
 * PaymentIntent an id of its own: the same one again for a request retried with the same
 * Idempotency-Key, as Stripe answers it. Everything else passes through untouched; stripe-mock
 * already answers a request about `pi_x` as being about `pi_x`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';

export async function startUniqueIdHop(options: { port: number; target: string }): Promise<Server> {
  const upstream = new URL(options.target);
  const server = createServer((req, res) => {
    const creates = req.method === 'POST' && req.url?.split('?')[0] === '/v1/payment_intents';
    const outbound = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer: IncomingMessage) => {
        if (!creates || answer.statusCode !== 200) {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const intent = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
          const seed = (req.headers['idempotency-key'] as string | undefined) ?? randomUUID();
          const digest = createHash('sha256').update(seed).digest('hex');
          intent.id = `pi_${digest.slice(0, 24)}`;
          intent.client_secret = `${intent.id}_secret_${digest.slice(24, 48)}`;
          const body = JSON.stringify(intent);
          res.writeHead(200, { ...answer.headers, 'content-length': Buffer.byteLength(body) });
          res.end(body);
        });
      },
    );
    outbound.on('error', () => res.writeHead(502).end());
    req.pipe(outbound);
  });
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  // It lives as long as stripe-mock behind it; it never keeps a process alive by itself.
  server.unref();
  return server;
}
