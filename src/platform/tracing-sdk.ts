/**
 * The OpenTelemetry Node SDK for src/platform/tracing.ts, in a module of its own so that it is
 * loaded only when tracing is on: a resource (our service name, then OTEL_SERVICE_NAME and
 * OTEL_RESOURCE_ATTRIBUTES, the process and the host), a batch processor exporting OTLP/HTTP
 * protobuf to `<endpoint>/v1/traces`, and the HTTP and Express instrumentations.
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
} from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { Tracing } from './tracing';
import { logger } from './logger';

/** Probes and scrapes answer every few seconds and say nothing about a customer's request. */
const untracedPaths = new Set(['/livez', '/readyz', '/health', '/metrics']);

export function startNodeSdk(endpoint: string, serviceName: string): Tracing {
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
