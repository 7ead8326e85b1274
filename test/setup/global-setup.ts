/**
 * Starts the real parts every test uses, once per run: a Temporal dev server (unless
 * TEMPORAL_ADDRESS names one), stripe-mock, and a freshly migrated test database. The workflow
 * bundle is built once here and shared by every worker the tests start.
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, startStripeMock, startTemporalDevServer } from '../../scripts/lib/services';
import { migrate } from '../../scripts/migrate';
import { failureConverterPath } from '../../src/platform/codec';
import { workflowInterceptorModules } from '../../src/workers/tracing';
import { dropDatabase } from '../../scripts/lib/databases';
import type { ChildProcess } from 'node:child_process';

declare global {
  var __testServices: ChildProcess[] | undefined;
}

export default async function globalSetup(): Promise<void> {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'durable-commerce-test-'));
  const services: ChildProcess[] = [];
  globalThis.__testServices = services;

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

  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../src/workflows'),
    failureConverterPath,
    workflowInterceptorModules,
    logger: quietLogger,
  });
  const bundlePath = path.join(workDir, 'workflow-bundle.js');
  writeFileSync(bundlePath, code);
  process.env.WORKFLOW_BUNDLE_PATH = bundlePath;
  process.env.TEST_WORK_DIR = workDir;
  process.env.LOG_LEVEL ??= 'silent';
}

const noop = () => undefined;
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: console.error };
