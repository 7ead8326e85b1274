/**
 * Which requests maintenance mode holds back (the e2e test, test/e2e/maintenance.test.ts, shows
 * the routes that exist today): every storefront write under /api/, a sign-up included should one
 * be added under /api/auth, while reads, signing in and out, password changes, webhooks and
 * /admin go on. The flag here is a stand-in for the database's.
 */
import type { NextFunction, Request, Response } from 'express';
import type { ApiDeps } from '../../src/api/deps';
import { maintenanceGate } from '../../src/api/system';
import { DomainError } from '../../src/platform/errors';
import type { MaintenanceFlag } from '../../src/system/maintenance';

const flag = {
  current: async () => ({ enabled: true, reason: 'database upgrade' }),
} as unknown as MaintenanceFlag;
const gate = maintenanceGate({ config: { MAINTENANCE_RETRY_AFTER: 300_000 } } as ApiDeps, flag);

async function passed(method: string, path: string): Promise<unknown> {
  let outcome: unknown = 'not called';
  await gate(
    { method, path } as Request,
    {} as Response,
    ((error?: unknown) => {
      outcome = error ?? 'next';
    }) as NextFunction,
  );
  return outcome;
}

test.each([
  ['POST', '/api/checkout'],
  ['POST', '/api/orders/o-1/payments'],
  ['POST', '/api/orders/o-1/cancel'],
  ['POST', '/api/orders/o-1/refunds'],
  ['POST', '/api/orders/o-1/returns'],
  ['POST', '/api/auth/register'],
  ['PUT', '/api/anything-new'],
])('%s %s answers 503 MAINTENANCE with Retry-After', async (method, path) => {
  const refused = await passed(method, path);
  expect(refused).toBeInstanceOf(DomainError);
  expect(refused).toMatchObject({ code: 'MAINTENANCE', details: { retryAfterSeconds: 300 } });
});

test.each([
  ['GET', '/api/products'],
  ['GET', '/api/orders/o-1'],
  ['POST', '/api/auth/login'],
  ['POST', '/api/auth/logout'],
  ['POST', '/api/auth/password'],
  ['POST', '/api/payments/stripe/webhook'],
  ['POST', '/api/payments/razorpay/webhook'],
  ['POST', '/admin/orders/o-1/ship'],
  ['POST', '/admin/system/maintenance'],
])('%s %s goes on', async (method, path) => {
  expect(await passed(method, path)).toBe('next');
});
