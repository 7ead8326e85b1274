/**
 * A refusal's way out (src/api/errors.ts, scripts/lib/exit-status.ts, src/platform/errors.ts):
 * every code of the closed vocabulary has its HTTP status and its CLI exit status; a workflow's
 * refusal reads as the same DomainError; anything unexpected is a 500 that tells nothing of our
 * internals.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Request, Response } from 'express';
import pino from 'pino';
import { z } from 'zod';
import { errorHandler, httpStatus, parse } from '../../src/api/errors';
import { asActivityFailure, DomainError } from '../../src/platform/errors';
import { ErrorCode } from '../../src/workflows/vocabulary';
import { exitStatus, exitStatusOf, LATER, REFUSED } from '../../scripts/lib/exit-status';

const logged: { level: string; msg: unknown }[] = [];
const logger = pino({ level: 'debug' }, { write: (line: string) => void logged.push(JSON.parse(line)) });

/** What the API answers for `error`: its status, headers and body. */
function answer(error: unknown) {
  const sent = { status: 0, headers: {} as Record<string, string>, body: undefined as unknown };
  const res = {
    status(code: number) {
      sent.status = code;
      return this;
    },
    setHeader(name: string, value: string) {
      sent.headers[name] = value;
    },
    json(body: unknown) {
      sent.body = body;
    },
  } as unknown as Response;
  errorHandler(logger)(error, { method: 'POST', path: '/api/checkout' } as Request, res, () => undefined);
  return sent;
}

test('every code of the vocabulary has an HTTP status and an exit status, and nothing else does', () => {
  const codes = Object.values(ErrorCode).sort();
  expect(Object.keys(httpStatus).sort()).toEqual(codes);
  expect(Object.keys(exitStatus).sort()).toEqual(codes);
  for (const code of codes) expect(httpStatus[code]).toBeGreaterThanOrEqual(400);
});

test('a refusal that may pass is exit 1 (run again later); one that will not is exit 2; 5xx codes are the ones that may pass', () => {
  for (const code of Object.values(ErrorCode))
    expect([code, exitStatus[code]]).toEqual([code, httpStatus[code] >= 500 ? LATER : REFUSED]);
  expect(exitStatusOf('STRIPE_CARD_DECLINED')).toBe(REFUSED);
});

test('a DomainError answers its status with code, message and details', () => {
  const sent = answer(new DomainError(ErrorCode.INSUFFICIENT_STOCK, 'Insufficient stock for TEE', { sku: 'TEE' }));
  expect(sent).toMatchObject({
    status: 409,
    body: { error: { code: 'INSUFFICIENT_STOCK', message: 'Insufficient stock for TEE', details: { sku: 'TEE' } } },
  });
});

test("a workflow's refusal (an update failed with our code) is the same answer as the capability's DomainError", () => {
  const failure = asActivityFailure(new DomainError(ErrorCode.REFUND_AMOUNT_TOO_HIGH, 'At most 100', { max: 100 }));
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect(failure).toMatchObject({ type: 'REFUND_AMOUNT_TOO_HIGH', nonRetryable: true });
  const sent = answer(new WorkflowUpdateFailedError('update failed', failure as ApplicationFailure));
  expect(sent).toMatchObject({
    status: 409,
    body: { error: { code: 'REFUND_AMOUNT_TOO_HIGH', message: 'At most 100', details: { max: 100 } } },
  });
  // Anything but a DomainError goes on as it is (an outage is retried, not refused).
  const outage = new Error('ECONNRESET');
  expect(asActivityFailure(outage)).toBe(outage);
});

test('request validation names every bad field in a 400', () => {
  const schema = z.object({ amount: z.number().int().positive(), reason: z.string().min(1) });
  let thrown: unknown;
  try {
    parse(schema, { amount: -1 });
  } catch (error) {
    thrown = error;
  }
  const sent = answer(thrown);
  expect(sent.status).toBe(400);
  expect(sent.body).toMatchObject({ error: { code: 'VALIDATION_ERROR' } });
  const fields = (sent.body as { error: { details: { fields: { path: string }[] } } }).error.details.fields;
  expect(fields.map((f) => f.path).sort()).toEqual(['amount', 'reason']);
});

test("an unexpected error is a logged 500 that says nothing of our internals; a provider's text is replaced", () => {
  const sent = answer(new Error('connect ECONNREFUSED 10.0.0.7:5432 (password=hunter2)'));
  expect(sent).toEqual({
    status: 500,
    headers: {},
    body: { error: { code: 'INTERNAL', message: 'Something went wrong on our side' } },
  });
  expect(JSON.stringify(logged.at(-1))).toContain('ECONNREFUSED');
  const provider = answer(new DomainError(ErrorCode.PAYMENT_PROVIDER_UNAVAILABLE, 'connect ECONNREFUSED 127.0.0.1'));
  expect(provider.body).toEqual({
    error: { code: 'PAYMENT_PROVIDER_UNAVAILABLE', message: 'The payment provider is unavailable; try again shortly' },
  });
});

test("a provider's own refusal is a 409; a 429 or 503 with a retry time says when to come back", () => {
  expect(answer(new DomainError('STRIPE_CHARGE_DISPUTED', 'The charge is disputed')).status).toBe(409);
  const limited = answer(new DomainError(ErrorCode.TOO_MANY_ATTEMPTS, 'Too many', { retryAfterSeconds: 30 }));
  expect([limited.status, limited.headers['Retry-After']]).toEqual([429, '30']);
});
