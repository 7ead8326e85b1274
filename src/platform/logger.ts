/**
 * The one logger (pino, JSON lines on stdout): secrets redacted, and every line tied to the
 * request and the trace it belongs to, so a failure in the logs leads to its trace and back.
 */
import { createContextKey, isSpanContextValid, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { EventEmitter } from 'node:events';
import pino from 'pino';

/**
 * The request a line is logged for, whatever logs it (a route, the error handler, the keyring).
 * A context manager of its own, not OpenTelemetry's global one, so request ids are there with
 * tracing off too; it binds the request's stream, so the body parsers' callbacks (which Node
 * runs in the socket's async context) still see it.
 */
const requestScope = new AsyncLocalStorageContextManager().enable();
const REQUEST_ID = createContextKey('durable-commerce request id');

/**
 * Runs `next` (the rest of a request's handling) with `requestId` on every line it logs,
 * including lines logged from the request's and the response's event listeners.
 */
export function inRequestScope<T>(requestId: string, emitters: EventEmitter[], next: () => T): T {
  const scope = ROOT_CONTEXT.setValue(REQUEST_ID, requestId);
  for (const emitter of emitters) requestScope.bind(scope, emitter);
  return requestScope.with(scope, next);
}

export function currentRequestId(): string | undefined {
  return requestScope.active().getValue(REQUEST_ID) as string | undefined;
}

/**
 * What every line carries besides its own fields: the request it was logged for, and the trace
 * and span it was logged in (when tracing is on), under the names OpenTelemetry's log
 * correlation uses, so a line leads to its trace and a trace to its lines.
 */
function correlation(): Record<string, string> {
  const fields: Record<string, string> = {};
  const requestId = currentRequestId();
  if (requestId) fields.request_id = requestId;
  const span = trace.getActiveSpan()?.spanContext();
  if (span && isSpanContextValid(span)) {
    fields.trace_id = span.traceId;
    fields.span_id = span.spanId;
    fields.trace_flags = `0${span.traceFlags.toString(16)}`;
  }
  return fields;
}

/** A logger that keeps secrets and personal data out of what it writes (to stdout unless told). */
export function createLogger(destination?: pino.DestinationStream, level = process.env.LOG_LEVEL ?? 'info') {
  return pino(
    {
      level,
      mixin: correlation,
      redact: {
        // The codec sign-in cookie carries an admin's token, as the Authorization header does.
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
          'req.headers["stripe-signature"]',
          'req.headers["x-razorpay-signature"]',
          '*.password',
          '*.passwordHash',
          '*.clientSecret',
          '*.secret',
          '*.keySecret',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

export const logger = createLogger();
export type Logger = ReturnType<typeof createLogger>;
