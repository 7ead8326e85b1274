/**
 * The Razorpay sandbox (scripts/lib/razorpay-sandbox.ts) as a process of its own, for
 * docker-compose.yml: `npm run dev` starts the same sandbox in-process. Configured by the
 * environment the API reads (RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET, RAZORPAY_WEBHOOK_SECRET),
 * plus RAZORPAY_SANDBOX_PORT (12120), RAZORPAY_SANDBOX_HOST (0.0.0.0) and
 * RAZORPAY_SANDBOX_WEBHOOK_URL (where paying a sandbox order delivers its webhooks).
 */
import { loadConfig } from '../src/platform/config';
import { startRazorpaySandbox } from './lib/razorpay-sandbox';

async function main(): Promise<void> {
  const config = loadConfig();
  const webhookUrl = process.env.RAZORPAY_SANDBOX_WEBHOOK_URL;
  const sandbox = await startRazorpaySandbox({
    port: Number(process.env.RAZORPAY_SANDBOX_PORT ?? 12120),
    host: process.env.RAZORPAY_SANDBOX_HOST ?? '0.0.0.0',
    keyId: config.RAZORPAY_KEY_ID,
    keySecret: config.RAZORPAY_KEY_SECRET,
    webhook: webhookUrl ? { url: webhookUrl, secret: config.RAZORPAY_WEBHOOK_SECRET } : undefined,
  });
  console.log(`Razorpay sandbox listening at ${sandbox.baseUrl}`);
  const stop = () => void sandbox.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
