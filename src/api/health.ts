import { Router } from 'express';
import { probe, providerProbes } from '../payments/connectivity';
import type { ApiDeps } from './deps';

export function healthRouter(deps: ApiDeps): Router {
  const { prisma, temporal } = deps;
  const router = Router();
  router.get('/health', async (_req, res) => {
    const providers = providerProbes(deps);
    const [database, temporalStatus, stripeStatus, razorpayStatus] = await Promise.all([
      probe(() => prisma.$queryRaw`SELECT 1`),
      probe(() => temporal.workflowService.getSystemInfo({})),
      probe(providers.STRIPE),
      // An authenticated read: a key Razorpay no longer accepts shows here as down.
      probe(providers.RAZORPAY),
    ]);
    const checks = {
      database: database.status,
      temporal: temporalStatus.status,
      stripe: stripeStatus.status,
      razorpay: razorpayStatus.status,
    };
    const healthy = Object.values(checks).every((status) => status === 'up');
    res.status(healthy ? 200 : 503).json({ status: healthy ? 'healthy' : 'unhealthy', checks });
  });
  return router;
}
