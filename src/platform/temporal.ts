import { Client, Connection, ScheduleAlreadyRunning, type ScheduleOptions, type TLSConfig } from '@temporalio/client';
import { readFileSync } from 'node:fs';
import { SearchAttributeType } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { dataConverterFor } from './codec';
import { jwtRotationGrace, type Config } from './config';
import type { PrismaClient } from './db';
import type { keyRotationWorkflow } from '../workflows/key-rotation/workflow';
import { keyRotationWorkflowId } from '../workflows/ids';
import { searchAttributes } from '../workflows/search-attributes';

/** What an operation that starts or asks a workflow needs (the admin API and the ops CLI both have it). */
export interface OperationsDeps {
  prisma: PrismaClient;
  temporal: Client;
  config: Pick<Config, 'TEMPORAL_TASK_QUEUE'>;
}

export type TemporalConnectionConfig = Pick<
  Config,
  | 'TEMPORAL_ADDRESS'
  | 'TEMPORAL_TLS'
  | 'TEMPORAL_TLS_CERT'
  | 'TEMPORAL_TLS_KEY'
  | 'TEMPORAL_TLS_CA'
  | 'TEMPORAL_TLS_SERVER_NAME'
  | 'TEMPORAL_API_KEY'
>;

/**
 * How every client and worker of ours reaches the Temporal frontend: plain gRPC to a local dev
 * server, or TLS (mTLS with TEMPORAL_TLS_CERT/KEY, a private CA in TEMPORAL_TLS_CA) and an API
 * key for Temporal Cloud. An API key implies TLS; a certificate without its key (or the other
 * way round) is a mistake, refused here rather than at the first call. The same shape suits the
 * client's Connection and the worker's NativeConnection.
 */
export function temporalConnectionOptions(
  config: TemporalConnectionConfig,
  read: (path: string) => Buffer = (path) => readFileSync(path),
): { address: string; tls?: TLSConfig | boolean; apiKey?: string } {
  const { TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_CA: ca } = config;
  if (Boolean(cert) !== Boolean(key))
    throw new Error('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together: set both (mTLS) or neither');
  if (config.TEMPORAL_TLS === 'false' && (cert || ca || config.TEMPORAL_API_KEY))
    throw new Error('TEMPORAL_TLS=false contradicts TEMPORAL_TLS_CERT, TEMPORAL_TLS_CA or TEMPORAL_API_KEY');
  const wantsTls = config.TEMPORAL_TLS === 'true' || Boolean(cert || ca || config.TEMPORAL_API_KEY);
  const options: { address: string; tls?: TLSConfig | boolean; apiKey?: string } = { address: config.TEMPORAL_ADDRESS };
  if (wantsTls) {
    const tls: TLSConfig = {};
    if (cert && key) tls.clientCertPair = { crt: read(cert), key: read(key) };
    if (ca) tls.serverRootCACertificate = read(ca);
    if (config.TEMPORAL_TLS_SERVER_NAME) tls.serverNameOverride = config.TEMPORAL_TLS_SERVER_NAME;
    options.tls = Object.keys(tls).length ? tls : true;
  }
  if (config.TEMPORAL_API_KEY) options.apiKey = config.TEMPORAL_API_KEY;
  return options;
}

/**
 * A client that connects on first use: the API starts (and answers 503) while Temporal is
 * down, and a CLI command that never talks to Temporal does not need it.
 */
export async function connectClient(
  config: TemporalConnectionConfig &
    Pick<Config, 'TEMPORAL_NAMESPACE' | 'MASTER_KEYS' | 'MASTER_KEY_ID' | 'TEMPORAL_PLAINTEXT_PAYLOADS'> &
    Partial<Pick<Config, 'OTEL_EXPORTER_OTLP_ENDPOINT'>>,
): Promise<Client> {
  const connection = Connection.lazy(temporalConnectionOptions(config));
  return new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: dataConverterFor(config),
    // With tracing on, a workflow's start, signals, updates and queries carry the caller's span
    // (the HTTP request's) in a header, and the worker's interceptors continue that trace.
    interceptors: config.OTEL_EXPORTER_OTLP_ENDPOINT
      ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] }
      : {},
  });
}

const indexedType: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  [SearchAttributeType.KEYWORD]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  [SearchAttributeType.TEXT]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  [SearchAttributeType.INT]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  [SearchAttributeType.DATETIME]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
};

/**
 * Registers the custom search attributes the workflows set (OrderStatus, ...). Idempotent, so
 * every worker runs it at start-up; works on the dev server and on any cluster whose operator
 * API we may call.
 */
export async function ensureSearchAttributes(client: Client, namespace: string): Promise<void> {
  const wanted = Object.values(searchAttributes);
  const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace });
  const existing = new Set(Object.keys(customAttributes ?? {}));
  const missing = wanted.filter((key) => !existing.has(key.name));
  if (missing.length === 0) return;
  await client.connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((key) => [key.name, indexedType[key.type]])),
  });
}

/**
 * The Temporal Schedule that rotates the JWT signing key every JWT_ROTATION_INTERVAL (90 days by
 * default), visible in `temporal schedule list`. Created once, updated to the current interval.
 */
export async function ensureKeyRotationSchedule(
  client: Client,
  config: Pick<Config, 'TEMPORAL_TASK_QUEUE' | 'JWT_ROTATION_INTERVAL' | 'JWT_ROTATION_GRACE' | 'JWT_TTL'>,
): Promise<string> {
  const scheduleId = `${config.TEMPORAL_TASK_QUEUE}-jwt-key-rotation`;
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'keyRotationWorkflow',
    workflowId: keyRotationWorkflowId('JWT_SIGNING', 'scheduled'),
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    args: [
      {
        purpose: 'JWT_SIGNING' as const,
        requestedBy: { id: 'schedule', role: 'SYSTEM' as const },
        reason: 'scheduled rotation',
        revokeSessions: false,
        graceMs: jwtRotationGrace(config),
      },
    ] as Parameters<typeof keyRotationWorkflow>,
  };
  return upsertSchedule(client, { scheduleId, spec: { intervals: [{ every: config.JWT_ROTATION_INTERVAL }] }, action });
}

/**
 * Creates the schedule, or brings an existing one (an earlier worker's) to this spec, action and
 * policies: every worker ensures its schedules at start, and the last configuration wins.
 */
export async function upsertSchedule(client: Client, options: ScheduleOptions): Promise<string> {
  const { scheduleId, spec, action, policies } = options;
  try {
    await client.schedule.create(options);
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule
      .getHandle(scheduleId)
      .update((previous) => ({ ...previous, spec, action, policies: { ...previous.policies, ...policies } }));
  }
  return scheduleId;
}
