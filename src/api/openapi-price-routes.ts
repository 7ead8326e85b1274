/**
 * The scheduled price change routes of the OpenAPI table (src/api/openapi-routes.ts spreads them
 * in; kept apart so that table stays a readable size).
 */
import { priceScheduleBody, priceSchedulesQuery } from '../inventory/price-schedules';
import type { RouteDoc } from './openapi-routes';
import * as prices from './prices';

const TEMPORAL = { 503: ['TEMPORAL_UNAVAILABLE', 'DATABASE_UNAVAILABLE'] };

export const priceScheduleRoutes: Record<string, RouteDoc> = {
  'POST /admin/price-schedules': {
    summary: 'Schedule a price change (a sale when it has an end)',
    who: 'admin',
    body: priceScheduleBody,
    ok: 202,
    errors: { 404: ['PRODUCT_NOT_FOUND', 'VARIANT_NOT_FOUND'], 409: ['PRICE_SCHEDULE_OVERLAP'], ...TEMPORAL },
  },
  'GET /admin/price-schedules': { summary: 'Price schedules, newest first', who: 'admin', query: priceSchedulesQuery },
  'GET /admin/price-schedules/:id': {
    summary: 'One price schedule',
    who: 'admin',
    params: prices.scheduleParams,
    errors: { 404: ['PRICE_SCHEDULE_NOT_FOUND'] },
  },
  'POST /admin/price-schedules/:id/cancel': {
    summary: 'Cancel a price schedule (a running sale is restored at once)',
    who: 'admin',
    params: prices.scheduleParams,
    body: prices.cancelBody,
    errors: { 404: ['PRICE_SCHEDULE_NOT_FOUND'], 409: ['INVALID_PRICE_SCHEDULE_STATE'], ...TEMPORAL },
  },
};
