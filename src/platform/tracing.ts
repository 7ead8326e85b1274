/**
 * Traces: one OpenTelemetry trace follows a request from the API's HTTP span through the
 * workflow it starts or signals, the workflow's activities, and the provider calls they make
 * (Stripe, Razorpay). Started by the OpenTelemetry Node SDK only when OTEL_EXPORTER_OTLP_ENDPOINT
 * is set, exporting OTLP over HTTP/protobuf to `<endpoint>/v1/traces`; unset, nothing starts and
 * the OpenTelemetry API stays the no-op it is by default (tests and `npm run dev` unchanged).
 *
 * Instrumentations patch modules as they are loaded, so each process starts tracing from the
 * first import of its entry point (src/api/tracing.ts, src/workers/tracing.ts), before Express
 * or any HTTP client is required. The rest of OpenTelemetry's settings are its own standard
 * variables (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS,
 * OTEL_TRACES_SAMPLER, OTEL_BSP_SCHEDULE_DELAY, ...), read by the SDK.
 */
import type { Resource } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { loadConfig, type Config } from './config';

export interface Tracing {
  /** The resource every span of this process carries (service.name, host, process). */
  resource: Resource;
  /** Where this process's spans go; the worker also hands it the spans its workflows make. */
  spanProcessor: SpanProcessor;
  /** Exports what is still buffered; the API and the worker call it as they stop. Never rejects. */
  shutdown(): Promise<void>;
}

/**
 * Starts the Node SDK when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise answers undefined and
 * starts nothing. The SDK (src/platform/tracing-sdk.ts) is loaded only then: its modules cost
 * about half a second of CPU at every start of the API and the worker, which a restarted process
 * with tracing off should not pay (issue 14: serving again within 3 s).
 */
export function startTracing(
  config: Pick<Config, 'OTEL_EXPORTER_OTLP_ENDPOINT'>,
  serviceName: string,
): Tracing | undefined {
  const endpoint = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (endpoint === undefined) return undefined;
  // A synchronous require on purpose: tracing must start before the entry point's next import.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startNodeSdk } = require('./tracing-sdk') as typeof import('./tracing-sdk');
  return startNodeSdk(endpoint, serviceName);
}

/**
 * startTracing for an entry point's first import: reads the configuration itself. A bad
 * configuration starts nothing here; the entry point's own loadConfig() reports it.
 */
export function startTracingFromEnv(serviceName: string): Tracing | undefined {
  let config: Config;
  try {
    config = loadConfig();
  } catch {
    return undefined;
  }
  return startTracing(config, serviceName);
}
