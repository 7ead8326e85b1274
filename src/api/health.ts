import { Router } from 'express';
import type { ApiDeps } from './deps';

async function check(probe: () => Promise<unknown>): Promise<'up' | 'down'> {
  try {
    await Promise.race([probe(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 3000).unref())]);
    return 'up';
  } catch {
    return 'down';
  }
}

export function healthRouter({ prisma, temporal, stripe }: ApiDeps): Router {
  const router = Router();
  router.get('/health', async (_req, res) => {
    const [database, temporalStatus, stripeStatus] = await Promise.all([
      check(() => prisma.$queryRaw`SELECT 1`),
      check(() => temporal.workflowService.getSystemInfo({})),
      check(() => stripe.balance.retrieve()),
    ]);
    const checks = { database, temporal: temporalStatus, stripe: stripeStatus };
    const healthy = Object.values(checks).every((status) => status === 'up');
    res.status(healthy ? 200 : 503).json({ status: healthy ? 'healthy' : 'unhealthy', checks });
  });
  return router;
}
