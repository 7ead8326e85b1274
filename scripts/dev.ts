/**
 * Starts everything on embedded defaults: the Temporal dev server with its Web UI (history kept
 * in .data/temporal.db), stripe-mock, a loopback SMTP listener that prints what it receives,
 * the database schema and seed, the worker and the API. Anything configured through the
 * environment (TEMPORAL_ADDRESS, STRIPE_API_BASE, SMTP_URL, DATABASE_URL) is used instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { loadConfig } from '../src/platform/config';
import { createPrisma } from '../src/platform/db';
import { startRazorpaySandbox } from './lib/razorpay-sandbox';
import { startSmtpListener, startStripeMock, startTemporalDevServer, stopProcess, waitForPort } from './lib/services';
import { migrate } from './migrate';
import { seed } from './seed';

const root = path.join(__dirname, '..');
const dataDir = path.join(root, '.data');
const children: ChildProcess[] = [];

async function main(): Promise<void> {
  const env = { ...process.env };
  let temporalUi: string | undefined;

  if (!env.TEMPORAL_ADDRESS) {
    console.log('starting Temporal dev server...');
    const server = await startTemporalDevServer({
      port: 7233,
      uiPort: 8233,
      dbFile: path.join(dataDir, 'temporal.db'),
      logFile: path.join(dataDir, 'temporal.log'),
      codecEndpoint: `http://127.0.0.1:${loadConfig(env).PORT}/codec`,
    });
    children.push(server.process);
    env.TEMPORAL_ADDRESS = server.address;
    temporalUi = server.uiUrl;
  }
  if (!env.STRIPE_API_BASE) {
    const stripeMock = await startStripeMock({ port: 12111, logFile: path.join(dataDir, 'stripe-mock.log') });
    children.push(stripeMock.process);
    env.STRIPE_API_BASE = stripeMock.baseUrl;
  }
  let razorpaySandbox: Awaited<ReturnType<typeof startRazorpaySandbox>> | undefined;
  if (!env.RAZORPAY_API_BASE) {
    const defaults = loadConfig(env);
    razorpaySandbox = await startRazorpaySandbox({
      port: 12120,
      keyId: defaults.RAZORPAY_KEY_ID,
      keySecret: defaults.RAZORPAY_KEY_SECRET,
      webhook: {
        url: `http://127.0.0.1:${defaults.PORT}/api/payments/razorpay/webhook`,
        secret: defaults.RAZORPAY_WEBHOOK_SECRET,
      },
    });
    env.RAZORPAY_API_BASE = razorpaySandbox.baseUrl;
  }
  let mailbox: string | undefined;
  if (!env.SMTP_URL) {
    const smtp = await startSmtpListener(1025);
    smtp.onMessage((mail) => console.log(`[mail] to ${mail.to.join(', ')}: ${mail.subject}`));
    env.SMTP_URL = smtp.url;
    mailbox = `${smtp.url} (messages are printed here as [mail])`;
  }

  const config = loadConfig(env);
  await migrate(config.DATABASE_URL, (line) => console.log(line));
  const prisma = createPrisma(config.DATABASE_URL, 2);
  await seed(prisma, config);
  await prisma.$disconnect();

  for (const [name, entry] of [
    ['worker', 'src/workers/main.ts'],
    ['api', 'src/api/main.ts'],
  ]) {
    const child = spawn(process.execPath, ['--import', 'tsx', entry], {
      cwd: root,
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('exit', (code) => {
      console.error(`${name} exited (${code}); stopping`);
      void shutdown(1);
    });
    children.push(child);
  }
  await waitForPort(config.PORT, 'API');

  console.log(`
durable-commerce is running
  API              http://127.0.0.1:${config.PORT}   (GET /health, GET /api/products)
  Temporal Web UI  ${temporalUi ?? `(your cluster at ${env.TEMPORAL_ADDRESS})`}${
    temporalUi
      ? `
                   to see payloads in clear: sign in as an admin at http://127.0.0.1:${config.PORT}/codec/login,
                   then in the UI's codec settings choose "Use my browser setting", paste
                   http://127.0.0.1:${config.PORT}/codec and turn on "Include cross-origin credentials"`
      : ''
  }
  Temporal         ${env.TEMPORAL_ADDRESS}  namespace ${config.TEMPORAL_NAMESPACE}, task queue ${config.TEMPORAL_TASK_QUEUE}
  Stripe API       ${env.STRIPE_API_BASE}
  Razorpay API     ${env.RAZORPAY_API_BASE}${razorpaySandbox ? ' (local sandbox; pay an order: curl -X POST ' + razorpaySandbox.baseUrl + '/sandbox/orders/<razorpayOrderId>/pay)' : ''}
  SMTP             ${mailbox ?? env.SMTP_URL}
  PostgreSQL       ${config.DATABASE_URL}
Seeded accounts
  admin     ${config.SEED_ADMIN_EMAIL} / ${config.SEED_ADMIN_PASSWORD}
  customer  ${config.SEED_CUSTOMER_EMAIL} / ${config.SEED_CUSTOMER_PASSWORD}
Press Ctrl-C to stop.
`);
}

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.all(children.reverse().map((child) => stopProcess(child)));
  process.exit(code);
}

process.once('SIGINT', () => void shutdown(0));
process.once('SIGTERM', () => void shutdown(0));
main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  void shutdown(1);
});
