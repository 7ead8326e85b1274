import { Router } from 'express';
import type { ApiDeps } from './deps';

async function check(probe: () => Promise<unknown>): Promise<'up' | 'down'> {
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 3000).unref()),
    ]);
    return 'up';
  } catch {
    return 'down';
  }
}

export function healthRouter({ prisma, temporal, stripe, razorpay }: ApiDeps): Router {
  const router = Router();
  router.get('/health', async (_req, res) => {
    const [database, temporalStatus, stripeStatus, razorpayStatus] = await Promise.all([
      check(() => prisma.$queryRaw`SELECT 1`),
      check(() => temporal.workflowService.getSystemInfo({})),
      check(() => stripe.balance.retrieve()),
      // An authenticated read: a key Razorpay no longer accepts shows here as down.
      check(() => razorpay.verifyCredentials()),
    ]);
    const checks = { database, temporal: temporalStatus, stripe: stripeStatus, razorpay: razorpayStatus };
    const healthy = Object.values(checks).every((status) => status === 'up');
    res.status(healthy ? 200 : 503).json({ status: healthy ? 'healthy' : 'unhealthy', checks });
  });
  return router;
}
