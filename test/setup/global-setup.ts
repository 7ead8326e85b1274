/**
 * Starts the real parts every test uses, once per run: a Temporal dev server (unless
 * TEMPORAL_ADDRESS names one), stripe-mock, and a freshly migrated test database. The workflow
 * bundles are built once here, while those start, and shared by every worker the tests start:
 * WORKFLOW_BUNDLE_PATH without the tracing interceptors (production's with tracing off) and
 * WORKFLOW_BUNDLE_TRACED_PATH with them (scripts/lib/workflow-bundles.ts).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, startStripeMock, startTemporalDevServer } from '../../scripts/lib/services';
import { migrate } from '../../scripts/migrate';
import { buildWorkflowBundles } from '../../scripts/lib/workflow-bundles';
import { dropDatabase } from '../../scripts/lib/databases';
import type { ChildProcess } from 'node:child_process';

declare global {
  var __testServices: ChildProcess[] | undefined;
}

export default async function globalSetup(): Promise<void> {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'durable-commerce-test-'));
  const services: ChildProcess[] = [];
  globalThis.__testServices = services;
  // Webpack's work overlaps the servers' starts; awaited below (a failure is reported there).
  const bundles = buildWorkflowBundles(quietLogger);
  bundles.catch(() => undefined);

  if (!process.env.TEMPORAL_ADDRESS) {
    const temporal = await startTemporalDevServer({
      port: await freePort(),
      logFile: path.join(workDir, 'temporal.log'),
    });
    services.push(temporal.process);
    process.env.TEMPORAL_ADDRESS = temporal.address;
  }
  const stripeMock = await startStripeMock({ port: await freePort(), logFile: path.join(workDir, 'stripe-mock.log') });
  services.push(stripeMock.process);
  process.env.STRIPE_API_BASE = stripeMock.baseUrl;

  // The server DATABASE_URL names (127.0.0.1:5432 when unset), but never its database: tests drop and recreate theirs.
  const server = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/durable_commerce');
  server.pathname = '/durable_commerce_test';
  const databaseUrl = process.env.TEST_DATABASE_URL ?? server.toString();
  await dropDatabase(databaseUrl);
  await migrate(databaseUrl);
  process.env.DATABASE_URL = databaseUrl;

  const { untraced, traced } = await bundles;
  process.env.WORKFLOW_BUNDLE_PATH = path.join(workDir, 'workflow-bundle.js');
  writeFileSync(process.env.WORKFLOW_BUNDLE_PATH, untraced);
  process.env.WORKFLOW_BUNDLE_TRACED_PATH = path.join(workDir, 'workflow-bundle-traced.js');
  writeFileSync(process.env.WORKFLOW_BUNDLE_TRACED_PATH, traced);
  process.env.TEST_WORK_DIR = workDir;
  process.env.LOG_LEVEL ??= 'silent';
}

const noop = () => undefined;
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: console.error };
