/**
 * The error codes many routes share, for the OpenAPI route tables (src/api/openapi-routes.ts and
 * the tables it spreads in): one list each, so a new code answered by every Temporal-backed route
 * is added once.
 */
export const NOT_FOUND = { 404: ['NOT_FOUND'] };
export const STATE = { 409: ['INVALID_ORDER_STATE'] };
export const TEMPORAL = { 503: ['TEMPORAL_UNAVAILABLE', 'WORKFLOW_TASK_FAILED', 'DATABASE_UNAVAILABLE'] };
export const IDEMPOTENCY = { 400: ['VALIDATION_ERROR', 'INVALID_IDEMPOTENCY_KEY'], 422: ['IDEMPOTENCY_KEY_REUSED'] };
export const WEBHOOK = {
  400: ['INVALID_SIGNATURE', 'MISSING_SIGNATURE', 'MALFORMED_EVENT'],
  503: ['TEMPORAL_UNAVAILABLE'],
};
