/**
 * HTTP's view of errors: every DomainError (and a workflow's refusal, an ApplicationFailure coded
 * from the same vocabulary) becomes `{ error: { code, message, details? } }` with the status its
 * code maps to in `httpStatus`; request validation, body-parser's errors and outages get codes of
 * their own; anything else is a logged 500 that says nothing about our internals.
 */
import {
  isGrpcServiceError,
  ServiceError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z, ZodError } from 'zod';
import { isDatabaseUnavailable } from '../platform/db';
import type { Logger } from '../platform/logger';
import { DomainError } from '../platform/errors';
import { ErrorCode, isErrorCode } from '../workflows/vocabulary';

/**
 * The HTTP status of every error code. A Record over the closed vocabulary, so adding a code
 * without its status does not compile.
 */
export const httpStatus: Record<ErrorCode, number> = {
  INSUFFICIENT_STOCK: 409,
  PRODUCT_NOT_FOUND: 404,
  SKU_EXISTS: 409,
  CURRENCY_MISMATCH: 400,
  INVALID_ORDER_STATE: 409,
  ORDER_NOT_FOUND: 404,
  ORDER_TOTAL_TOO_LARGE: 400,
  PAYMENT_PROVIDER_UNAVAILABLE: 503,
  PAYMENTS_DISABLED: 503,
  NO_PROVIDER_PAYMENT: 409,
  INVALID_SIGNATURE: 400,
  MISSING_SIGNATURE: 400,
  MALFORMED_EVENT: 400,
  STALE_EVENT: 400,
  WEBHOOK_FAILED: 409,
  ORDER_NOT_PAID: 409,
  ORDER_ALREADY_SHIPPED: 409,
  REFUND_NOT_FOUND: 404,
  REFUND_PENDING: 409,
  REFUND_ALREADY_PROCESSED: 409,
  REFUND_AMOUNT_TOO_HIGH: 409,
  REFUND_DESTINATION_NOT_ALLOWED: 409,
  REFUND_ALREADY_DECIDED: 409,
  SELF_APPROVAL: 403,
  IDEMPOTENCY_KEY_REUSED: 422,
  INVALID_IDEMPOTENCY_KEY: 400,
  REFUND_REFUSED: 409,
  WALLET_CURRENCY_MISMATCH: 409,
  WALLET_BALANCE_LIMIT: 409,
  INSUFFICIENT_WALLET_BALANCE: 409,
  ORDER_DISPUTED: 409,
  ORDER_NOT_DELIVERED: 409,
  RETURN_WINDOW_CLOSED: 409,
  RETURN_QUANTITY_TOO_HIGH: 409,
  RETURN_NOT_FOUND: 404,
  INVALID_RETURN_STATE: 409,
  DISPUTE_NOT_FOUND: 404,
  DISPUTE_CLOSED: 409,
  REFUND_NOT_HELD: 409,
  RETURN_REFUSED: 409,
  VARIANT_NOT_FOUND: 404,
  VARIANT_REQUIRED: 400,
  STOCK_BELOW_RESERVED: 409,
  RESET_NOT_FOUND: 404,
  INVALID_RESET_STATE: 409,
  RESET_REFUSED: 409,
  IMPORT_NOT_FOUND: 404,
  PRICE_SCHEDULE_NOT_FOUND: 404,
  PRICE_SCHEDULE_OVERLAP: 409,
  INVALID_PRICE_SCHEDULE_STATE: 409,
  INVALID_ROTATION_STATE: 409,
  ROTATION_NOT_FOUND: 404,
  ROTATION_IN_PROGRESS: 409,
  SECRET_NOT_SUPPLIED: 409,
  UNKNOWN_MANUAL_STEP: 404,
  KEY_VERIFICATION_FAILED: 409,
  DATABASE_ADMIN_REFUSED: 409,
  UNDECODABLE_PAYLOAD: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  ACCOUNT_SUSPENDED: 403,
  TOO_MANY_ATTEMPTS: 429,
  FORBIDDEN: 403,
  NOT_AN_ADMIN: 403,
  SELF_ACTION: 409,
  WRONG_PASSWORD: 403,
  PASSWORD_UNCHANGED: 400,
  USER_NOT_FOUND: 404,
  EMAIL_TAKEN: 409,
  BOOTSTRAP_CLOSED: 409,
  MAINTENANCE: 503,
  VALIDATION_ERROR: 400,
  BAD_REQUEST: 400,
  MALFORMED_JSON: 400,
  PAYLOAD_TOO_LARGE: 413,
  NOT_FOUND: 404,
  TEMPORAL_UNAVAILABLE: 503,
  WORKFLOW_TASK_FAILED: 503,
  DATABASE_UNAVAILABLE: 503,
  INTERNAL: 500,
};

/**
 * Refusals whose text comes from a payment provider or the network (`connect ECONNREFUSED
 * 127.0.0.1:12120`, a provider's internal message): clients get this fixed message instead,
 * and the full text goes to the logs.
 */
const fixedMessages: Partial<Record<string, string>> = {
  [ErrorCode.PAYMENT_PROVIDER_UNAVAILABLE]: 'The payment provider is unavailable; try again shortly',
};

/** Validates `data` against `schema`; a mismatch is a 400 naming every bad field. */
export function parse<T extends z.ZodType>(schema: T, data: unknown): z.infer<T> {
  const result = schema.safeParse(data);
  if (!result.success) throw validationError(result.error);
  return result.data;
}

function validationError(error: ZodError): DomainError {
  return new DomainError(ErrorCode.VALIDATION_ERROR, 'The request is invalid', {
    fields: error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
  });
}

/** A workflow's business refusal (an ApplicationFailure whose type is one of our codes), as a DomainError. */
export function fromFailure(failure: unknown): DomainError | undefined {
  if (failure instanceof ApplicationFailure && isErrorCode(failure.type))
    return new DomainError(failure.type, failure.message, failure.details?.[0]);
  return undefined;
}

/** gRPC's status code 9 (the client SDK's own @grpc/grpc-js names it `status.FAILED_PRECONDITION`). */
const GRPC_FAILED_PRECONDITION = 9;

function fromTemporal(error: unknown): DomainError | undefined {
  if (error instanceof WorkflowUpdateFailedError || error instanceof WorkflowFailedError) {
    const refused = fromFailure(error.cause);
    if (refused) return refused;
  }
  if (error instanceof WorkflowNotFoundError) return new DomainError(ErrorCode.NOT_FOUND, 'No such workflow');
  if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    return new DomainError(
      ErrorCode.TEMPORAL_UNAVAILABLE,
      'The workflow did not answer in time; check its state before trying again',
    );
  }
  // An update sent while the workflow's last task failed (a worker died in it, or it refused a
  // payload) is FAILED_PRECONDITION: Temporal retries the task, so the client should too. An
  // update-with-start throws the gRPC error itself; a plain update wraps it in a ServiceError.
  const grpc = isGrpcServiceError(error) ? error : error instanceof ServiceError ? error.cause : undefined;
  if (isGrpcServiceError(grpc) && grpc.code === GRPC_FAILED_PRECONDITION && /failed state/i.test(grpc.message)) {
    return new DomainError(
      ErrorCode.WORKFLOW_TASK_FAILED,
      "The workflow's last task failed, so it cannot take this now; try again shortly (its history says why)",
      { retryAfterSeconds: 2 },
    );
  }
  if (error instanceof ServiceError || isGrpcServiceError(error)) {
    return new DomainError(ErrorCode.TEMPORAL_UNAVAILABLE, 'The workflow service is unavailable; try again shortly');
  }
  return undefined;
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new DomainError(ErrorCode.NOT_FOUND, `No route for ${req.method} ${req.path}`));
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    let status: number | undefined;
    let domain: DomainError | undefined =
      error instanceof DomainError ? error : error instanceof ZodError ? validationError(error) : fromTemporal(error);
    // body-parser's own errors carry a status and a type.
    if (!domain && error?.type === 'entity.too.large')
      domain = new DomainError(ErrorCode.PAYLOAD_TOO_LARGE, 'The request body is too large');
    if (!domain && error?.type === 'entity.parse.failed')
      domain = new DomainError(ErrorCode.MALFORMED_JSON, 'The request body is not valid JSON');
    if (!domain && isDatabaseUnavailable(error))
      domain = new DomainError(ErrorCode.DATABASE_UNAVAILABLE, 'The database is unavailable; try again shortly');
    if (!domain && typeof error?.status === 'number' && error.status >= 400 && error.status < 500) {
      status = error.status; // another 4xx from Express's middleware keeps its own status
      domain = new DomainError(ErrorCode.BAD_REQUEST, error.expose ? error.message : 'Bad request');
    }
    if (!domain) {
      logger.error({ err: error, method: req.method, path: req.path }, 'unhandled error');
      domain = new DomainError(ErrorCode.INTERNAL, 'Something went wrong on our side');
    }
    const fixed = fixedMessages[domain.code];
    if (fixed) {
      logger.warn({ code: domain.code, detail: domain.message, method: req.method, path: req.path }, 'refused');
      domain = new DomainError(domain.code, fixed);
    }
    // A provider's own refusal (a disputed charge, say) is a conflict with the state of the money.
    status ??= isErrorCode(domain.code) ? httpStatus[domain.code] : 409;
    const retryAfter = (domain.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
    if ((status === 429 || status === 503) && retryAfter) res.setHeader('Retry-After', String(retryAfter));
    res.status(status).json({
      error: { code: domain.code, message: domain.message, ...(domain.details ? { details: domain.details } : {}) },
    });
  };
}
