/**
 * Which zod schema each route validates with, and which error codes it answers: the table
 * src/api/openapi.ts renders as GET /openapi.json. A new route goes here too (the OpenAPI test
 * fails until it does).
 */
import type { z } from 'zod';
import { catalogueQuery, newProduct } from '../inventory/catalogue';
import { newUserBody } from '../access/users';
import { alertsQuery } from './alerts';
import { loginBody } from './auth';
import { jsonPayloads, loginForm } from './codec';
import * as disputes from './disputes';
import * as keys from './keys';
import * as orderEmails from './order-emails';
import * as ops from './operations';
import * as orders from './orders';
import { IDEMPOTENCY, NOT_FOUND, STATE, TEMPORAL, WEBHOOK } from './openapi-codes';
import { inventoryRoutes } from './openapi-inventory-routes';
import { productParams } from './products';
import { importForm } from './product-imports';
import { importOptions, importParams, importStatusQuery } from '../inventory/import-runs';
import * as refunds from './refunds';
import * as returns from './returns';
import * as system from './system';
import * as users from './users';

type Schema = z.ZodType;
type Who = 'anyone' | 'customer' | 'admin' | 'user' | 'provider';

export interface RouteDoc {
  summary: string;
  who: Who;
  body?: Schema;
  /** A multipart/form-data body instead of JSON (a file upload). */
  multipart?: Schema;
  query?: Schema;
  params?: Schema;
  /** The success status (200 unless said). */
  ok?: number;
  /** Error statuses beyond those every route of its kind answers, each with its codes. */
  errors?: Record<number, string[]>;
}

/** Every route: `METHOD /path` (Express syntax) to what it takes and answers. */
export const routes: Record<string, RouteDoc> = {
  'GET /livez': { summary: 'The process answers', who: 'anyone' },
  'GET /readyz': { summary: 'PostgreSQL and Temporal reachable (503 when either is down)', who: 'anyone' },
  'GET /health': { summary: 'Database, Temporal and the providers (cached)', who: 'anyone', errors: { 503: [] } },
  'GET /metrics': { summary: 'Prometheus metrics (text)', who: 'anyone' },
  'GET /openapi.json': { summary: 'This document', who: 'anyone' },
  'POST /api/auth/login': {
    summary: 'Sign in',
    who: 'anyone',
    body: loginBody,
    errors: { 401: ['INVALID_CREDENTIALS'], 429: ['TOO_MANY_ATTEMPTS'] },
  },
  'POST /api/auth/logout': { summary: 'End this session', who: 'user', ok: 204 },
  'GET /api/products': { summary: 'Catalogue, paged', who: 'anyone', query: catalogueQuery },
  'GET /api/products/:id': { summary: 'One product', who: 'anyone', params: productParams, errors: NOT_FOUND },
  'POST /admin/products': {
    summary: 'Create a product',
    who: 'admin',
    body: newProduct,
    ok: 201,
    errors: { 409: ['SKU_EXISTS'] },
  },
  'POST /admin/products/import': {
    summary:
      'Import products from a CSV (the same file again answers the same import; 202 and its id for a large file)',
    who: 'admin',
    query: importOptions,
    multipart: importForm,
    errors: TEMPORAL,
  },
  'GET /admin/products/imports/:id': {
    summary: 'Where a product import stands: counts, progress, row errors (paged by afterRow)',
    who: 'admin',
    params: importParams,
    query: importStatusQuery,
    errors: { 404: ['IMPORT_NOT_FOUND'] },
  },
  'POST /api/checkout': {
    summary: 'Place an order',
    who: 'customer',
    body: orders.checkoutBody,
    ok: 201,
    // The placement's refusals (src/orders/placement.ts), answered through the order workflow's update.
    errors: {
      ...IDEMPOTENCY,
      400: [...IDEMPOTENCY[400], 'CURRENCY_MISMATCH', 'VARIANT_REQUIRED', 'ORDER_TOTAL_TOO_LARGE'],
      404: ['PRODUCT_NOT_FOUND', 'VARIANT_NOT_FOUND'],
      409: ['INSUFFICIENT_STOCK', 'INSUFFICIENT_WALLET_BALANCE', 'WALLET_CURRENCY_MISMATCH'],
      ...TEMPORAL,
      503: ['TEMPORAL_UNAVAILABLE', 'PAYMENTS_DISABLED', 'MAINTENANCE'],
    },
  },
  'GET /api/orders': { summary: "The customer's orders", who: 'user', query: orders.myOrdersQuery },
  'GET /api/orders/:id': { summary: 'One order, live', who: 'user', params: orders.orderParams, errors: NOT_FOUND },
  'POST /api/orders/:id/payments': {
    summary: 'Retry payment',
    who: 'customer',
    params: orders.orderParams,
    body: orders.emptyBody,
    errors: { ...NOT_FOUND, ...STATE, ...TEMPORAL },
  },
  'POST /api/orders/:id/cancel': {
    summary: 'Cancel before payment',
    who: 'user',
    params: orders.orderParams,
    body: orders.cancelBody,
    errors: { ...NOT_FOUND, ...STATE, ...TEMPORAL },
  },
  'POST /api/orders/:id/refunds': {
    summary: 'Request a refund',
    who: 'customer',
    params: refunds.idParams,
    body: refunds.customerRequest,
    ok: 202,
    errors: {
      ...NOT_FOUND,
      ...IDEMPOTENCY,
      409: ['REFUND_PENDING', 'REFUND_AMOUNT_TOO_HIGH', 'REFUND_DESTINATION_NOT_ALLOWED', 'INVALID_ORDER_STATE'],
      ...TEMPORAL,
    },
  },
  'POST /api/orders/:id/returns': {
    summary: 'Request a return',
    who: 'customer',
    params: returns.idParams,
    body: returns.requestBody,
    ok: 202,
    errors: { ...NOT_FOUND, ...STATE, ...TEMPORAL },
  },
  'GET /api/wallet': { summary: "The customer's store credit", who: 'customer' },
  'POST /api/payments/stripe/webhook': { summary: 'Stripe event (signed)', who: 'provider', errors: WEBHOOK },
  'POST /api/payments/razorpay/webhook': { summary: 'Razorpay event (signed)', who: 'provider', errors: WEBHOOK },
  'GET /admin/orders': { summary: 'Orders, newest first', who: 'admin', query: orders.listQuery },
  'POST /admin/orders/:id/ship': {
    summary: 'Ship',
    who: 'admin',
    params: orders.orderParams,
    body: orders.shipBody,
    errors: { ...NOT_FOUND, ...STATE, ...TEMPORAL },
  },
  'POST /admin/orders/:id/deliver': {
    summary: 'Mark delivered',
    who: 'admin',
    params: orders.orderParams,
    body: orders.emptyBody,
    errors: { ...NOT_FOUND, ...STATE, ...TEMPORAL },
  },
  'POST /admin/orders/:id/cancel': {
    summary: 'Cancel (admin)',
    who: 'admin',
    params: orders.orderParams,
    body: orders.adminCancelBody,
    errors: { ...NOT_FOUND, ...STATE, ...TEMPORAL },
  },
  'POST /admin/orders/:id/refunds': {
    summary: 'Manual refund',
    who: 'admin',
    params: refunds.idParams,
    body: refunds.adminRequest,
    ok: 202,
    errors: {
      ...NOT_FOUND,
      ...IDEMPOTENCY,
      409: ['REFUND_PENDING', 'REFUND_AMOUNT_TOO_HIGH', 'REFUND_DESTINATION_NOT_ALLOWED', 'INVALID_ORDER_STATE'],
      ...TEMPORAL,
    },
  },
  'GET /admin/orders/:id/history': {
    summary: 'Audit timeline from workflow history',
    who: 'admin',
    params: ops.historyParams,
    query: ops.pageQuery,
    errors: NOT_FOUND,
  },
  'GET /admin/refunds': { summary: 'Refunds by status', who: 'admin', query: refunds.listQuery },
  'POST /admin/refunds/:id/approve': {
    summary: 'Approve a refund',
    who: 'admin',
    params: refunds.idParams,
    body: refunds.decisionBody,
    errors: { ...NOT_FOUND, 409: ['REFUND_ALREADY_DECIDED'], ...TEMPORAL },
  },
  'POST /admin/refunds/:id/reject': {
    summary: 'Reject a refund',
    who: 'admin',
    params: refunds.idParams,
    body: refunds.decisionBody,
    errors: { ...NOT_FOUND, 409: ['REFUND_ALREADY_DECIDED'], ...TEMPORAL },
  },
  'POST /admin/wallets/:userId/credit': {
    summary: 'Goodwill credit',
    who: 'admin',
    params: refunds.userParams,
    body: refunds.creditBody,
    errors: { ...NOT_FOUND, ...IDEMPOTENCY, 409: ['WALLET_BALANCE_LIMIT', 'WALLET_CURRENCY_MISMATCH'] },
  },
  'GET /admin/returns': { summary: 'Returns', who: 'admin', query: returns.listQuery },
  'GET /admin/returns/:id': { summary: 'One return', who: 'admin', params: returns.idParams, errors: NOT_FOUND },
  'POST /admin/returns/:id/receive': {
    summary: 'Goods received',
    who: 'admin',
    params: returns.idParams,
    body: returns.receiveBody,
    errors: { ...NOT_FOUND, 409: ['INVALID_RETURN_STATE'], ...TEMPORAL },
  },
  'POST /admin/returns/:id/reject': {
    summary: 'Reject a return',
    who: 'admin',
    params: returns.idParams,
    body: returns.rejectBody,
    errors: { ...NOT_FOUND, 409: ['INVALID_RETURN_STATE'], ...TEMPORAL },
  },
  ...inventoryRoutes,
  'POST /admin/orders/:id/send-confirmation': {
    summary: 'Send the confirmation email again',
    who: 'admin',
    params: orderEmails.params,
    body: orderEmails.body,
    errors: { ...NOT_FOUND, ...STATE, ...TEMPORAL },
  },
  'POST /admin/refunds/:id/release': {
    summary: 'Pay out a refund held by a dispute',
    who: 'admin',
    params: refunds.idParams,
    body: refunds.decisionBody,
    errors: { 404: ['REFUND_NOT_FOUND'], 409: ['REFUND_NOT_HELD'], ...TEMPORAL },
  },
  'POST /admin/refunds/:id/cancel': {
    summary: 'Cancel a refund held by a dispute',
    who: 'admin',
    params: refunds.idParams,
    body: refunds.decisionBody,
    errors: { 404: ['REFUND_NOT_FOUND'], 409: ['REFUND_NOT_HELD'], ...TEMPORAL },
  },
  'GET /admin/disputes': { summary: 'Provider disputes', who: 'admin', query: disputes.listQuery },
  'GET /admin/disputes/:id': {
    summary: 'One dispute',
    who: 'admin',
    params: disputes.idParams,
    errors: { 404: ['DISPUTE_NOT_FOUND'] },
  },
  'POST /admin/disputes/:id/evidence': {
    summary: 'Record evidence submitted for a dispute',
    who: 'admin',
    params: disputes.idParams,
    body: disputes.evidenceBody,
    errors: { 404: ['DISPUTE_NOT_FOUND'], ...TEMPORAL },
  },
  'GET /admin/webhooks': { summary: 'Stored webhook events', who: 'admin', query: ops.listQuery },
  'POST /admin/webhooks/replay': {
    summary: 'Replay failed events',
    who: 'admin',
    body: ops.replayBody,
    errors: TEMPORAL,
  },
  'GET /admin/webhooks/health': {
    summary: 'Webhook success and refusals by provider',
    who: 'admin',
    query: ops.healthQuery,
  },
  'GET /admin/system/payments': { summary: 'The payments switch', who: 'admin' },
  'POST /admin/system/payments': { summary: 'Switch payments on or off', who: 'admin', body: ops.paymentsBody },
  'GET /admin/system/maintenance': { summary: 'Maintenance mode', who: 'admin' },
  'POST /admin/system/maintenance': { summary: 'Maintenance on or off', who: 'admin', body: system.maintenanceBody },
  'GET /admin/system/database': { summary: 'Connections and long queries', who: 'admin', query: system.diagnosisQuery },
  'POST /admin/system/database/terminate-long-queries': {
    summary: 'Terminate long queries',
    who: 'admin',
    body: system.terminateBody,
  },
  'GET /admin/system/payments/diagnosis': { summary: 'Payment diagnosis', who: 'admin' },
  'GET /admin/alerts': { summary: 'Business alerts', who: 'admin', query: alertsQuery },
  'POST /admin/users': {
    summary: 'Create an account',
    who: 'admin',
    body: newUserBody,
    ok: 201,
    errors: { 409: ['EMAIL_TAKEN'] },
  },
  'POST /admin/users/:id/suspend': {
    summary: 'Suspend an account',
    who: 'admin',
    params: users.userParams,
    body: users.reasonBody,
    errors: { ...NOT_FOUND, 409: ['SELF_ACTION'] },
  },
  'POST /admin/users/:id/restore': {
    summary: 'Restore an account',
    who: 'admin',
    params: users.userParams,
    body: users.reasonBody,
    errors: { ...NOT_FOUND, 409: ['SELF_ACTION'] },
  },
  'POST /admin/users/:id/role': {
    summary: 'Change role',
    who: 'admin',
    params: users.userParams,
    body: users.roleBody,
    errors: { ...NOT_FOUND, 409: ['SELF_ACTION'] },
  },
  'POST /api/auth/password': {
    summary: 'Change your own password',
    who: 'user',
    body: users.changeBody,
    errors: { 401: ['INVALID_CREDENTIALS'] },
  },
  'POST /admin/users/:id/password': {
    summary: "Reset a user's password",
    who: 'admin',
    params: users.userParams,
    body: users.resetBody,
    errors: { ...NOT_FOUND, 409: ['SELF_ACTION'] },
  },
  'GET /admin/audit': { summary: 'Audit log', who: 'admin', query: users.auditQuery },
  'POST /admin/keys/rotate': {
    summary: 'Start a key rotation',
    who: 'admin',
    body: keys.rotateBody,
    ok: 202,
    errors: { 409: ['ROTATION_IN_PROGRESS'], ...TEMPORAL },
  },
  'GET /admin/keys/rotations': { summary: 'Key rotations', who: 'admin', query: keys.rotationsQuery, errors: TEMPORAL },
  'GET /admin/keys/rotations/:workflowId': {
    summary: 'One rotation',
    who: 'admin',
    params: keys.rotationParams,
    errors: { ...NOT_FOUND, ...TEMPORAL },
  },
  'POST /admin/keys/rotations/:workflowId/secret': {
    summary: "Hand in the rotation's new secret",
    who: 'admin',
    params: keys.rotationParams,
    body: keys.secretBody,
    errors: { ...NOT_FOUND, 409: ['INVALID_ROTATION_STATE'], ...TEMPORAL },
  },
  'POST /admin/keys/rotations/:workflowId/steps/:stepId/confirm': {
    summary: 'Confirm a manual step',
    who: 'admin',
    params: keys.stepParams,
    body: keys.confirmBody,
    errors: { 404: ['NOT_FOUND', 'UNKNOWN_MANUAL_STEP'], ...TEMPORAL },
  },
  'POST /admin/keys/rotations/:workflowId/cancel': {
    summary: 'Cancel a rotation',
    who: 'admin',
    params: keys.rotationParams,
    ok: 202,
    errors: { ...NOT_FOUND, ...TEMPORAL },
  },
  'GET /admin/keys': { summary: 'Keyring versions', who: 'admin', query: keys.keysQuery },
  'POST /admin/keys/rewrap': { summary: 'Re-encrypt secrets under MASTER_KEY_ID', who: 'admin' },
  'GET /codec/login': { summary: "The Web UI codec's sign-in form (HTML)", who: 'anyone' },
  'POST /codec/login': {
    summary: 'Sign in to the codec (form)',
    who: 'admin',
    body: loginForm,
    errors: { 401: ['INVALID_CREDENTIALS'] },
  },
  'OPTIONS /codec/encode': { summary: 'CORS preflight of the Web UI', who: 'anyone', ok: 204 },
  'OPTIONS /codec/decode': { summary: 'CORS preflight of the Web UI', who: 'anyone', ok: 204 },
  'POST /codec/encode': {
    summary: 'Encode payloads (Temporal Web UI)',
    who: 'admin',
    body: jsonPayloads,
    errors: { 400: ['VALIDATION_ERROR', 'UNDECODABLE_PAYLOAD'] },
  },
  'POST /codec/decode': {
    summary: 'Decode payloads (Temporal Web UI)',
    who: 'admin',
    body: jsonPayloads,
    errors: { 400: ['VALIDATION_ERROR', 'UNDECODABLE_PAYLOAD'] },
  },
};
