/**
 * Replays recorded workflow histories (test/histories/*.json: orders, refunds, webhooks, key rotations,
 * written by the workflow tests with
 * RECORD_HISTORIES=1) against today's workflow code. A failure means a change would break
 * orders already running in production: guard it with patched() instead.
 *
 * Every history replays through both bundles a worker may run (src/workers/worker.ts): with the
 * tracing interceptors for new workflows (tracing on) and without (tracing off), since a
 * workflow started on one may continue on the other after a restart. The histories were
 * recorded both ways: before the interceptors were bundled (no OpenTelemetry SDK flags) and
 * while every bundle had them (flag 5, OpenTelemetryInterceporsAvoidsExtraYields, among the
 * first task's flags). Each bundle replays a workflow with the interceptors its first task had
 * (src/workflows/tracing-by-history.ts): without that, three key rotations recorded with them
 * fail without them (an update ending a timer's wait resolves some microtasks earlier).
 */
import { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { dataConverterFor } from '../../src/platform/codec';
import { loadConfig } from '../../src/platform/config';
import { tracingWorkerOptions } from '../../src/workers/tracing';
import { workflowBundlePath } from '../helpers/workflow-worker';

const historiesDir = path.join(__dirname, '..', 'histories');
const files = readdirSync(historiesDir)
  .filter((f) => f.endsWith('.json'))
  .sort();
const histories = files.map((file) => ({
  workflowId: file.replace(/\.json$/, ''),
  history: JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8')),
}));

/** The SDK flags a history's workflow tasks recorded as used. */
function usedFlags(history: {
  events: { workflowTaskCompletedEventAttributes?: { sdkMetadata?: { langUsedFlags?: number[] } } }[];
}) {
  return new Set(
    history.events.flatMap((e) => e.workflowTaskCompletedEventAttributes?.sdkMetadata?.langUsedFlags ?? []),
  );
}

test('there are recorded histories to replay, recorded both with the tracing interceptors and without', () => {
  expect(files.length).toBeGreaterThanOrEqual(5);
  const withInterceptors = histories.filter((h) => usedFlags(h.history).has(5));
  expect(withInterceptors.length).toBeGreaterThan(0);
  expect(withInterceptors.length).toBeLessThan(histories.length);
});

describe.each([
  ['without the tracing interceptors (tracing off)', false],
  ['with the tracing interceptors (tracing on)', true],
])('the bundle %s', (_name, traced) => {
  test('replays every recorded history without non-determinism', async () => {
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories(
      {
        workflowBundle: { codePath: workflowBundlePath(traced) },
        dataConverter: dataConverterFor({ ...loadConfig(), TEMPORAL_PLAINTEXT_PAYLOADS: 'accept' }),
        // The traced bundle's interceptors export through this sink (it drops what they send).
        sinks: tracingWorkerOptions(undefined).sinks,
      },
      histories,
    )) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
  });
});
