/**
 * GET /livez (the process answers), GET /readyz (PostgreSQL and Temporal; 503 when either is
 * down) and GET /health (those plus the providers, cached: see src/monitoring/health.ts).
 */
import { Connection } from '@temporalio/client';
import { Router } from 'express';
import { healthChecks } from '../monitoring/health';
import { temporalConnectionOptions } from '../platform/temporal';
import type { ApiDeps } from './deps';

export function healthRouter(deps: ApiDeps): Router {
  // A connection of its own without the client's retry interceptor: a probe of a Temporal that is
  // down fails within its deadline instead of retrying in the background for many seconds.
  const probeConnection = Connection.lazy({ ...temporalConnectionOptions(deps.config), interceptors: [] });
  const temporalProbe = () =>
    probeConnection.withDeadline(Date.now() + deps.config.HEALTH_CHECK_TIMEOUT, () =>
      probeConnection.workflowService.getSystemInfo({}),
    );
  const checks = healthChecks(
    { ...deps, temporalProbe },
    {
      providerCacheTtlMs: deps.config.HEALTH_PROVIDER_CACHE_TTL,
      timeoutMs: deps.config.HEALTH_CHECK_TIMEOUT,
    },
  );
  const router = Router();
  router.get('/livez', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const { ready, checks: status } = await checks.readiness();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unready', checks: status });
  });
  router.get('/health', async (_req, res) => {
    const { healthy, checks: status } = await checks.health();
    res.status(healthy ? 200 : 503).json({ status: healthy ? 'healthy' : 'unhealthy', checks: status });
  });
  return router;
}
