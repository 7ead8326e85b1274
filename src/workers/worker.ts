/**
 * The one worker every durable-commerce workflow and activity runs on: real activities over
 * PostgreSQL, the providers and SMTP (or a test's stubs), encrypted payloads, the workflow
 * bundle, and, with tracing on, Temporal's tracing interceptors (src/workers/tracing.ts).
 *
 * Which bundle follows tracing: with it off, the one in which a new workflow gets no tracing
 * interceptors (they cost about a third of the worker's CPU per order and a copy of the
 * OpenTelemetry modules in every cached workflow, for spans that are dropped); with it on, the
 * one in which it gets them. `npm run build` writes both and a compiled worker loads the one it
 * needs; a worker run from the sources bundles it. Both keep a workflow as it started, whichever
 * worker it moves to after a restart with tracing switched (src/workflows/tracing-by-history.ts:
 * taking the interceptors from a workflow that ran with them breaks its replay), and
 * test/workflows/replay.test.ts replays every recorded history through both.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Transporter } from 'nodemailer';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createActivities, type Activities } from '../activities';
import { dataConverterFor } from '../platform/codec';
import type { Config } from '../platform/config';
import { followDatabaseLogin } from '../keys/database-login';
import { createDatabase, type PrismaClient } from '../platform/db';
import { Keyring } from '../keys/keyring';
import { RequestSeals } from '../access/request-seals';
import { logger } from '../platform/logger';
import { keyringRazorpayGateway } from '../payments/razorpay';
import { createStripe } from '../payments/stripe';
import { bindDatabase } from '../monitoring/metrics';
import { createMailer } from '../platform/mail';
import type { Tracing } from '../platform/tracing';
import { tracingWorkerOptions, workflowInterceptorModules } from './tracing';

export interface OrderWorkerOptions {
  config: Config;
  connection: NativeConnection;
  /** Defaults to the real activities; workflow tests pass stubs. */
  activities?: object;
  /** Changes some of the real activities (a test simulating a broken handler). */
  wrapActivities?: (activities: Activities) => Activities;
  /**
   * A prebuilt bundle (tests build them once): the traced one (a new workflow gets the tracing
   * interceptors) when `tracing` is set, the untraced one otherwise; by default the worker finds
   * or makes the one it needs.
   */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Started by the worker process when OTEL_EXPORTER_OTLP_ENDPOINT is set (src/workers/start-tracing.ts). */
  tracing?: Tracing;
}

/**
 * Where `npm run build` writes the workflow bundles (dist/src/workflow-bundle.js for tracing off,
 * dist/src/workflow-bundle-traced.js for tracing on). Only a worker running
 * compiled code (a .js file) looks there, so running the sources with tsx never picks up a
 * bundle of other code.
 */
export const prebuiltWorkflowBundlePaths = {
  untraced: path.join(__dirname, '..', 'workflow-bundle.js'),
  traced: path.join(__dirname, '..', 'workflow-bundle-traced.js'),
};

/** Where the worker's workflows come from, and a word for the log saying which. */
function workflowSource(
  given: WorkerOptions['workflowBundle'],
  traced: boolean,
): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> & { workflowModules?: string[]; description: string } {
  if (given) return { workflowBundle: given, description: 'the bundle given' };
  const prebuilt = traced ? prebuiltWorkflowBundlePaths.traced : prebuiltWorkflowBundlePaths.untraced;
  if (__filename.endsWith('.js') && existsSync(prebuilt))
    return { workflowBundle: { codePath: prebuilt }, description: prebuilt };
  // Development (tsx) or a dist/ built without this bundle: webpack bundles the workflows now,
  // with the interceptor module of tracing on or off (src/workers/tracing.ts).
  return {
    workflowsPath: require.resolve('../workflows'),
    workflowModules: traced ? workflowInterceptorModules.traced : workflowInterceptorModules.untraced,
    description: `bundled from the sources, ${traced ? 'traced' : 'untraced'}`,
  };
}

/** The worker for the task queue every durable-commerce workflow and activity runs on. */
export async function createOrderWorker(
  options: OrderWorkerOptions,
): Promise<{ worker: Worker; close: () => Promise<void>; workflows: string }> {
  const { config } = options;
  const database = options.activities
    ? undefined
    : createDatabase(
        config.DATABASE_URL,
        config.DATABASE_POOL_SIZE,
        config.DATABASE_ACQUIRE_TIMEOUT,
        config.DATABASE_PREPARED_STATEMENTS,
      );
  const real = (prisma: PrismaClient, keyring: Keyring, mailer: Transporter) =>
    createActivities({
      prisma,
      // Provider keys come from the keyring on every call (its copy, dropped as soon as a rotation
      // commits anywhere: src/keys/keyring.ts), so a rotation takes effect within milliseconds.
      stripe: createStripe(config, keyring),
      razorpay: keyringRazorpayGateway(config, keyring),
      mailer,
      mailFrom: config.MAIL_FROM,
      keyring,
      requestSeals: RequestSeals.fromConfig(config),
      keyConfig: config,
      alertConfig: config,
      backupConfig: config,
      disputeReminderLeadMs: config.DISPUTE_REMINDER_LEAD,
    });
  let stopFollowing = () => {};
  let unbind = () => {};
  let keyring: Keyring | undefined;
  let mailer: Transporter | undefined;
  let activities = options.activities;
  if (database) {
    keyring = new Keyring(database.prisma, config).listen(logger);
    stopFollowing = await followDatabaseLogin(database.pool, keyring, config.DATABASE_LOGIN_REFRESH, logger);
    unbind = bindDatabase(database.prisma, database.pool);
    mailer = createMailer(config.SMTP_URL);
    activities = (options.wrapActivities ?? ((a: Activities) => a))(real(database.prisma, keyring, mailer));
  }
  const { workflowModules, description, ...source } = workflowSource(options.workflowBundle, !!options.tracing);
  const tracing = tracingWorkerOptions(options.tracing);
  const worker = await Worker.create({
    connection: options.connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    activities,
    dataConverter: dataConverterFor(config),
    // On SIGTERM (the SDK's Runtime turns it into worker.shutdown()) polling stops at once and the
    // tasks in hand get most of SHUTDOWN_TIMEOUT to finish; activities still running after that
    // are cancelled (their retries run on another worker) and the worker is forced down at the limit.
    shutdownGraceTime: Math.floor(config.SHUTDOWN_TIMEOUT * 0.8),
    shutdownForceTime: config.SHUTDOWN_TIMEOUT,
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    maxConcurrentWorkflowTaskExecutions: config.WORKER_MAX_WORKFLOW_TASKS,
    maxConcurrentActivityTaskExecutions: config.WORKER_MAX_ACTIVITIES,
    maxConcurrentLocalActivityExecutions: config.WORKER_MAX_LOCAL_ACTIVITIES,
    ...source,
    sinks: tracing.sinks,
    interceptors: { ...tracing.interceptors, ...(workflowModules ? { workflowModules } : {}) },
  });
  return {
    worker,
    workflows: description,
    close: async () => {
      stopFollowing();
      unbind();
      await keyring?.close();
      mailer?.close();
      await database?.prisma.$disconnect();
    },
  };
}
