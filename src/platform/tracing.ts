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
import type { IncomingMessage } from 'node:http';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import {
  detectResources,
  envDetector,
  hostDetector,
  processDetector,
  resourceFromAttributes,
  type Resource,
} from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { loadConfig, type Config } from './config';
import { logger } from './logger';

export interface Tracing {
  /** The resource every span of this process carries (service.name, host, process). */
  resource: Resource;
  /** Where this process's spans go; the worker also hands it the spans its workflows make. */
  spanProcessor: SpanProcessor;
  /** Exports what is still buffered; the API and the worker call it as they stop. Never rejects. */
  shutdown(): Promise<void>;
}

/** Probes and scrapes answer every few seconds and say nothing about a customer's request. */
const untracedPaths = new Set(['/livez', '/readyz', '/health', '/metrics']);

/** Starts the Node SDK when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise answers undefined and starts nothing. */
export function startTracing(
  config: Pick<Config, 'OTEL_EXPORTER_OTLP_ENDPOINT'>,
  serviceName: string,
): Tracing | undefined {
  const endpoint = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (endpoint === undefined) return undefined;
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over our default name.
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }).merge(
    detectResources({ detectors: [envDetector, processDetector, hostDetector] }),
  );
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }));
  const sdk = new NodeSDK({
    resource,
    autoDetectResources: false, // detected above, so the workflows' spans carry the same resource
    spanProcessors: [spanProcessor],
    // Traces only: metrics are Prometheus's (src/monitoring/metrics.ts), logs are pino's on stdout.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request: IncomingMessage) => untracedPaths.has((request.url ?? '').split('?')[0]),
      }),
      // Only for the route template: the HTTP span is named `POST /api/checkout` and carries
      // http.route. A span per middleware (helmet, the body parsers, ...) would say nothing more.
      new ExpressInstrumentation({
        ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER, ExpressLayerType.REQUEST_HANDLER],
      }),
    ],
  });
  sdk.start();
  return {
    resource,
    spanProcessor,
    // A collector that is down loses the last spans; it never makes a stop fail.
    shutdown: () =>
      sdk.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'the last spans could not be exported')),
  };
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
