/**
 * The Express app: security headers, request timing, request ids and logging first; webhooks
 * before any JSON parsing (their signatures are over the raw body); then every router.
 */
import express, { type Express } from 'express';
import helmet from 'helmet';
import { trace } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { pinoHttp } from 'pino-http';
import { alertsRouter } from './alerts';
import { authRouter } from './auth';
import type { ApiDeps } from './deps';
import { codecRouter } from './codec';
import { errorHandler, notFound } from './errors';
import { healthRouter } from './health';
import { inventoryRouter } from './inventory';
import { orderEmailsRouter } from './order-emails';
import { keysRouter } from './keys';
import { metricsRouter, timeRequests } from './metrics';
import { openApiRouter } from './openapi';
import { bindDatabase } from '../monitoring/metrics';
import { operationsRouter } from './operations';
import { ordersRouter } from './orders';
import { paymentsRouter } from './payments';
import { pricesRouter } from './prices';
import { productsRouter } from './products';
import { productImportsRouter } from './product-imports';
import { refundsRouter } from './refunds';
import { returnsRouter } from './returns';
import { disputesRouter } from './disputes';
import { usersRouter } from './users';
import { MaintenanceFlag } from '../system/maintenance';
import { maintenanceGate, systemRouter } from './system';
import { inRequestScope } from '../platform/logger';

/**
 * The request's id: the caller's X-Request-Id (a proxy's or a load balancer's) when it looks like
 * one, else a new UUID; answered in X-Request-Id so a client can quote it.
 */
function requestId(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

function withoutEmptyValues(query: string): Record<string, string | string[]> {
  const parsed = parseQuery(query);
  const kept: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(parsed)) {
    const values = (Array.isArray(value) ? value : [value ?? '']).filter((v) => v !== '');
    if (values.length) kept[name] = values.length === 1 ? values[0] : values;
  }
  return kept;
}

export function createApp(deps: ApiDeps): Express {
  bindDatabase(deps.prisma, deps.pool);
  const app = express();
  app.disable('x-powered-by');
  // An empty parameter (`/admin/audit?action=`, what a form with a blank field sends) means no filter.
  app.set('query parser', withoutEmptyValues);
  if (deps.config.TRUST_PROXY)
    app.set(
      'trust proxy',
      /^\d+$/.test(deps.config.TRUST_PROXY) ? Number(deps.config.TRUST_PROXY) : deps.config.TRUST_PROXY,
    );
  app.use(helmet());
  app.use(timeRequests);
  // Every line logged while a request is handled carries its id (src/platform/logger.ts), as does
  // its trace; pino-http (after) takes req.id as the id of its own lines.
  app.use((req, res, next) => {
    const id = requestId(req, res);
    req.id = id;
    trace.getActiveSpan()?.setAttribute('request_id', id);
    inRequestScope(id, [req, res], next);
  });
  app.use(
    pinoHttp({
      logger: deps.logger,
      autoLogging: { ignore: (req) => ['/health', '/livez', '/readyz', '/metrics'].includes(req.url ?? '') },
    }),
  );
  // Webhooks first: their signatures are checked on the raw body, before any JSON parsing.
  app.use(paymentsRouter(deps));
  app.use(codecRouter(deps)); // Temporal payload batches are larger than API bodies
  app.use(express.json({ limit: '100kb' }));
  // Every Temporal call a request makes shares one deadline: no worker answering means 503, not a hung request.
  app.use(
    (_req, _res, next) =>
      void deps.temporal.withDeadline(Date.now() + deps.config.API_TEMPORAL_DEADLINE, async () => next()),
  );
  // One copy of the maintenance flag per replica, shared by the gate and the switch.
  const maintenance = new MaintenanceFlag(deps.prisma, deps.config.MAINTENANCE_CACHE_TTL);
  app.use(maintenanceGate(deps, maintenance));
  app.use(healthRouter(deps));
  app.use(metricsRouter());
  app.use(openApiRouter());
  app.use(authRouter(deps));
  app.use(productsRouter(deps));
  app.use(productImportsRouter(deps));
  app.use(inventoryRouter(deps));
  app.use(pricesRouter(deps));
  app.use(orderEmailsRouter(deps));
  app.use(ordersRouter(deps));
  app.use(refundsRouter(deps));
  app.use(returnsRouter(deps));
  app.use(disputesRouter(deps));
  app.use(operationsRouter(deps));
  app.use(usersRouter(deps));
  app.use(keysRouter(deps));
  app.use(alertsRouter(deps));
  app.use(systemRouter(deps, maintenance));
  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}
