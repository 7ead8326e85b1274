/**
 * Tracing off by default, and the log correlation fields: OTEL_EXPORTER_OTLP_ENDPOINT unset (or
 * empty) starts nothing, a bad one stops start-up; every line logged in a request's scope
 * carries its request id, and in a span its trace and span ids. (The whole trace, exported from
 * the real processes, is test/e2e/traces.test.ts.)
 */
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { EventEmitter } from 'node:events';
import { loadConfig } from '../../src/platform/config';
import { createLogger, inRequestScope } from '../../src/platform/logger';
import { startTracing } from '../../src/platform/tracing';

test('OTEL_EXPORTER_OTLP_ENDPOINT: unset or empty is off, a trailing slash is dropped, a non-URL refused', () => {
  expect(loadConfig({}).OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
  expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' }).OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
  expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).OTEL_EXPORTER_OTLP_ENDPOINT).toBe(
    'http://collector:4318',
  );
  expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
});

test('with no endpoint nothing starts: spans stay the API’s no-op ones', () => {
  expect(startTracing(loadConfig({}), 'durable-commerce-test')).toBeUndefined();
  const span = trace.getTracer('test').startSpan('probe');
  expect(span.isRecording()).toBe(false);
  span.end();
});

test('the SDK is loaded only with an endpoint: a restarted API or worker with tracing off does not pay for it', () => {
  const load = (env: Record<string, string>) => {
    let loaded = false;
    let started: unknown;
    jest.isolateModules(() => {
      jest.doMock('../../src/platform/tracing-sdk', () => {
        loaded = true;
        return { startNodeSdk: (endpoint: string) => ({ endpoint }) };
      });
      const tracing = jest.requireActual<typeof import('../../src/platform/tracing')>('../../src/platform/tracing');
      started = tracing.startTracing(loadConfig(env), 'durable-commerce-test');
    });
    return { loaded, started };
  };
  expect(load({})).toEqual({ loaded: false, started: undefined });
  expect(load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({
    loaded: true,
    started: { endpoint: 'http://collector:4318' },
  });
});

test('a line carries the request id in its scope (listeners included) and the trace and span ids in a span', async () => {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ write: (line: string) => void lines.push(JSON.parse(line)) }, 'info');
  const request = new EventEmitter();
  const heard = new Promise<void>((resolve) => {
    inRequestScope('req-1', [request], () => {
      log.info('in scope');
      // A listener added in scope but called from outside it (as Node calls a body parser's).
      request.on('end', () => {
        log.info('from a listener');
        resolve();
      });
    });
  });
  setImmediate(() => request.emit('end'));
  await heard;
  log.info('outside');
  expect(lines.map((l) => [l.msg, l.request_id])).toEqual([
    ['in scope', 'req-1'],
    ['from a listener', 'req-1'],
    ['outside', undefined],
  ]);

  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const spanContext = {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    traceFlags: TraceFlags.SAMPLED,
  };
  context.with(trace.setSpanContext(context.active(), spanContext), () => log.info('in a span'));
  expect(lines.at(-1)).toMatchObject({
    msg: 'in a span',
    trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
    span_id: '00f067aa0ba902b7',
    trace_flags: '01',
  });
  context.disable();
});
