import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import nodemailer from 'nodemailer';
import { createActivities, type Activities } from '../activities';
import { dataConverterFor } from '../platform/codec';
import type { Config } from '../platform/config';
import { followDatabaseLogin } from '../keys/database-login';
import { createDatabase, type PrismaClient } from '../platform/db';
import { Keyring } from '../keys/keyring';
import { logger } from '../platform/logger';
import { keyringRazorpayGateway } from '../payments/razorpay';
import { createStripe } from '../payments/stripe';

export interface OrderWorkerOptions {
  config: Config;
  connection: NativeConnection;
  /** Defaults to the real activities; workflow tests pass stubs. */
  activities?: object;
  /** Changes some of the real activities (a test simulating a broken handler). */
  wrapActivities?: (activities: Activities) => Activities;
  /** A prebuilt bundle (tests build one once); otherwise the workflows are bundled now. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/** The worker for the task queue every durable-commerce workflow and activity runs on. */
export async function createOrderWorker(
  options: OrderWorkerOptions,
): Promise<{ worker: Worker; close: () => Promise<void> }> {
  const { config } = options;
  const database = options.activities ? undefined : createDatabase(config.DATABASE_URL);
  const real = (prisma: PrismaClient, keyring: Keyring) =>
    createActivities({
      prisma,
      // Provider keys come from the keyring on every call, so a rotation takes effect at once.
      stripe: createStripe(config, keyring),
      razorpay: keyringRazorpayGateway(config, keyring),
      mailer: nodemailer.createTransport(config.SMTP_URL),
      mailFrom: config.MAIL_FROM,
      keyring,
      keyConfig: config,
    });
  let stopFollowing = () => {};
  let activities = options.activities;
  if (database) {
    const keyring = new Keyring(database.prisma, config);
    stopFollowing = await followDatabaseLogin(database.pool, keyring, config.DATABASE_LOGIN_REFRESH, logger);
    activities = (options.wrapActivities ?? ((a: Activities) => a))(real(database.prisma, keyring));
  }
  const worker = await Worker.create({
    connection: options.connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    activities,
    dataConverter: dataConverterFor(config),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
  });
  return {
    worker,
    close: async () => {
      stopFollowing();
      await database?.prisma.$disconnect();
    },
  };
}
