/**
 * GET /metrics (Prometheus text from the process's registry) and the middleware timing every
 * request by method, route template (`/api/orders/:id`, never the id itself) and status.
 */
import { Router, type RequestHandler } from 'express';
import { httpRequestDuration, metricsText, registry } from '../monitoring/metrics';

export const timeRequests: RequestHandler = (req, res, next) => {
  const stop = httpRequestDuration.startTimer();
  res.once('finish', () => {
    // Unmatched paths share one label, so a scanner cannot grow the series without bound.
    const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
    stop({ method: req.method, route, status: String(res.statusCode) });
  });
  next();
};

export function metricsRouter(): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await metricsText());
  });
  return router;
}
