/**
 * Replays recorded workflow histories (test/histories/*.json: orders, refunds, webhooks, key rotations,
 * written by the workflow tests with
 * RECORD_HISTORIES=1) against today's workflow code. A failure means a change would break
 * orders already running in production: guard it with patched() instead.
 */
import { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { dataConverterFor } from '../../src/platform/codec';
import { loadConfig } from '../../src/platform/config';
import { tracingWorkerOptions } from '../../src/workers/tracing';

const historiesDir = path.join(__dirname, '..', 'histories');
const files = readdirSync(historiesDir)
  .filter((f) => f.endsWith('.json'))
  .sort();

test('there are recorded histories to replay', () => {
  expect(files.length).toBeGreaterThanOrEqual(5);
});

test('every recorded history replays without non-determinism', async () => {
  const histories = files.map((file) => ({
    workflowId: file.replace(/\.json$/, ''),
    history: JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8')),
  }));
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories(
    {
      workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE_PATH! },
      dataConverter: dataConverterFor({ ...loadConfig(), TEMPORAL_PLAINTEXT_PAYLOADS: 'accept' }),
      // The bundle has the tracing interceptors, as production's does: histories recorded
      // without them replay with them.
      sinks: tracingWorkerOptions(undefined).sinks,
    },
    histories,
  )) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  expect(failures).toEqual([]);
});
