/**
 * The worker's first import (src/workers/main.ts): tracing must start before the providers'
 * HTTP clients are loaded, or the HTTP instrumentation has nothing to patch. Starts nothing
 * unless OTEL_EXPORTER_OTLP_ENDPOINT is set (src/platform/tracing.ts).
 */
import { startTracingFromEnv } from '../platform/tracing';

export const tracing = startTracingFromEnv('durable-commerce-worker');
