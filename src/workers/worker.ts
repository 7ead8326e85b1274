import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import nodemailer from 'nodemailer';
import { createActivities, type Activities } from '../activities';
import { dataConverterFor } from '../codec';
import type { Config } from '../config';
import { createPrisma } from '../db';
import { Keyring } from '../keyring';
import { createRazorpayGateway } from '../razorpay';
import { createStripe } from '../stripe';

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
export async function createOrderWorker(options: OrderWorkerOptions): Promise<{ worker: Worker; close: () => Promise<void> }> {
  const { config } = options;
  const prisma = options.activities ? undefined : createPrisma(config.DATABASE_URL);
  const real = () =>
    createActivities({
      prisma: prisma!,
      stripe: createStripe(config),
      razorpay: createRazorpayGateway(config),
      razorpayKeyId: config.RAZORPAY_KEY_ID,
      mailer: nodemailer.createTransport(config.SMTP_URL),
      mailFrom: config.MAIL_FROM,
      keyring: new Keyring(prisma!, config),
    });
  const activities = options.activities ?? (options.wrapActivities ?? ((a: Activities) => a))(real());
  const worker = await Worker.create({
    connection: options.connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    activities,
    dataConverter: dataConverterFor(config),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
  });
  return { worker, close: async () => prisma?.$disconnect() };
}
