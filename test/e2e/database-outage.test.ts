/**
 * Found by `npm run chaos` (PostgreSQL killed with kill -9 under load): while the database is
 * down or restarting, a signed-in request must answer 503 DATABASE_UNAVAILABLE, which clients
 * retry, never 401 (the token's key could not be read, so the token was called invalid and the
 * client gave up) nor 500 (pg's "Connection terminated unexpectedly", and Prisma's 57P01
 * "terminating connection due to unexpected postmaster exit", were not recognised).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createApp } from '../../src/api/app';
import { Keyring } from '../../src/keys/keyring';
import { keyringRazorpayGateway } from '../../src/payments/razorpay';
import { createPrisma, type PrismaClient } from '../../src/platform/db';
import { HttpClient } from '../helpers/http';
import { useStack, useUser } from '../helpers/stack';

const { stack, beforeStop } = useStack({ worker: false });
const customer = useUser(stack);
const closers: (() => Promise<void>)[] = [];
beforeStop(async () => {
  for (const close of closers) await close();
});

/** An API like the deployed one, whose database is at `databaseUrl`. */
async function apiWithDatabase(databaseUrl: string): Promise<HttpClient> {
  const prisma: PrismaClient = createPrisma(databaseUrl, 2);
  const keyring = new Keyring(prisma, stack.config);
  const app = createApp({
    config: stack.config,
    prisma,
    temporal: stack.temporal,
    stripe: stack.stripe,
    razorpay: keyringRazorpayGateway(stack.config, keyring),
    logger: pino({ level: 'silent' }),
    keyring,
  });
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  closers.push(async () => {
    await new Promise((resolve) => server.close(resolve));
    await prisma.$disconnect();
  });
  return new HttpClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

/** A "database" that accepts connections and drops each at once, as a killed server does. */
async function droppingServer(): Promise<number> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('data', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise((resolve) => {
        sockets.forEach((s) => s.destroy());
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

test('a signed-in request while the database drops connections is 503 DATABASE_UNAVAILABLE, not 401', async () => {
  const port = await droppingServer();
  const api = await apiWithDatabase(`postgresql://postgres@127.0.0.1:${port}/durable_commerce_test`);
  const answer = await api.get('/api/wallet', customer.token);
  expect(answer.status).toBe(503);
  expect(answer.body.error.code).toBe('DATABASE_UNAVAILABLE');
  // The same token is good once the database is back.
  expect((await stack.http.get('/api/wallet', customer.token)).status).toBe(200);
});

test('a connection terminated under a query is 503 DATABASE_UNAVAILABLE, not 500', async () => {
  const { isDatabaseUnavailable } = await import('../../src/platform/db');
  expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
  // An interactive transaction that could not start in time (the server saturated).
  expect(isDatabaseUnavailable({ code: 'P2028', name: 'PrismaClientKnownRequestError' })).toBe(true);
  expect(
    isDatabaseUnavailable({
      code: 'P2039',
      meta: { driverAdapterError: { cause: { originalCode: '57P01', kind: 'postgres' } } },
    }),
  ).toBe(true);
});
