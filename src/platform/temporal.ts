import { Client, Connection, ScheduleAlreadyRunning } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { dataConverterFor } from './codec';
import { jwtRotationGrace, type Config } from './config';
import type { keyRotationWorkflow } from '../workflows/key-rotation/workflow';
import { searchAttributes } from '../workflows/search-attributes';

/**
 * A client that connects on first use: the API starts (and answers 503) while Temporal is
 * down, and a CLI command that never talks to Temporal does not need it.
 */
export async function connectClient(
  config: Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE' | 'MASTER_KEYS' | 'MASTER_KEY_ID'>,
): Promise<Client> {
  const connection = Connection.lazy({ address: config.TEMPORAL_ADDRESS });
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: dataConverterFor(config) });
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
    workflowId: `key-rotation-JWT_SIGNING-scheduled`,
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
  const spec = { intervals: [{ every: config.JWT_ROTATION_INTERVAL }] };
  try {
    await client.schedule.create({ scheduleId, spec, action });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action }));
  }
  return scheduleId;
}
