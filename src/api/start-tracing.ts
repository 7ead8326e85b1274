/**
 * The API's first import (src/api/main.ts): tracing must start before Express and the HTTP
 * clients are loaded, or their instrumentations have nothing to patch. Starts nothing unless
 * OTEL_EXPORTER_OTLP_ENDPOINT is set (src/platform/tracing.ts).
 */
import { startTracingFromEnv } from '../platform/tracing';

export const tracing = startTracingFromEnv('durable-commerce-api');
