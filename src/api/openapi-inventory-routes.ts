/**
 * The stock and price routes of the OpenAPI table (adjustments, resets, low stock, scheduled price
 * changes): src/api/openapi-routes.ts spreads them in, kept apart so each table stays readable.
 */
import { adjustmentBody, adjustmentsQuery } from '../inventory/adjustments';
import { priceScheduleBody, priceSchedulesQuery } from '../inventory/price-schedules';
import { resetBody } from '../inventory/resets';
import { resetParams, rollbackBody } from './inventory';
import { IDEMPOTENCY, NOT_FOUND, TEMPORAL } from './openapi-codes';
import type { RouteDoc } from './openapi-routes';
import * as prices from './prices';

export const inventoryRoutes: Record<string, RouteDoc> = {
  'POST /admin/inventory/adjustments': {
    summary: 'Adjust stock',
    who: 'admin',
    body: adjustmentBody,
    ok: 201,
    errors: {
      ...IDEMPOTENCY,
      400: [...IDEMPOTENCY[400], 'VARIANT_REQUIRED'],
      404: ['PRODUCT_NOT_FOUND', 'VARIANT_NOT_FOUND'],
      409: ['STOCK_BELOW_RESERVED'],
    },
  },
  'GET /admin/inventory/adjustments': { summary: 'Stock adjustments', who: 'admin', query: adjustmentsQuery },
  'POST /admin/inventory/resets': {
    summary: 'Start a stock reset run',
    who: 'admin',
    body: resetBody,
    ok: 202,
    errors: TEMPORAL,
  },
  'GET /admin/inventory/resets/:id': {
    summary: 'One stock reset run',
    who: 'admin',
    params: resetParams,
    errors: NOT_FOUND,
  },
  'POST /admin/inventory/resets/:id/rollback': {
    summary: 'Roll a stock reset back',
    who: 'admin',
    params: resetParams,
    body: rollbackBody,
    errors: { ...NOT_FOUND, 409: ['INVALID_RESET_STATE'], ...TEMPORAL },
  },
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
  'GET /admin/inventory/low-stock': { summary: 'Products at or below their low-stock threshold', who: 'admin' },
};
