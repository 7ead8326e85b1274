import {
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
import { ErrorCode } from '../workflows/vocabulary';
import { InventoryError } from '../inventory/errors';

/** An error the client caused or must know about; rendered as `{ error: { code, message, details? } }`. */
export class HttpError extends Error {
  /** What happened in full, for the logs only (a provider's own error text); never sent to the client. */
  internalDetail?: string;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/**
 * Refusals whose text comes from a payment provider or the network (`connect ECONNREFUSED
 * 127.0.0.1:12120`, a provider's internal message): clients get this fixed message instead,
 * and the full text goes to the logs.
 */
const fixedMessages: Record<string, string> = {
  [ErrorCode.PAYMENT_PROVIDER_UNAVAILABLE]: 'The payment provider is unavailable; try again shortly',
};

/** Validates `data` against `schema`; a mismatch is a 400 naming every bad field. */
export function parse<T extends z.ZodType>(schema: T, data: unknown): z.infer<T> {
  const result = schema.safeParse(data);
  if (!result.success) throw validationError(result.error);
  return result.data;
}

function validationError(error: ZodError): HttpError {
  return new HttpError(400, 'VALIDATION_ERROR', 'The request is invalid', {
    fields: error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
  });
}

// How workflow refusals (ApplicationFailure types) map onto HTTP.
const failureStatus: Record<string, number> = {
  [ErrorCode.INSUFFICIENT_STOCK]: 409,
  [ErrorCode.INVALID_ORDER_STATE]: 409,
  [ErrorCode.PRODUCT_NOT_FOUND]: 404,
  [ErrorCode.CURRENCY_MISMATCH]: 400,
  [ErrorCode.PAYMENT_PROVIDER_UNAVAILABLE]: 503,
  [ErrorCode.ORDER_NOT_FOUND]: 404,
  [ErrorCode.ORDER_NOT_PAID]: 409,
  [ErrorCode.ORDER_ALREADY_SHIPPED]: 409,
  [ErrorCode.REFUND_PENDING]: 409,
  [ErrorCode.REFUND_ALREADY_PROCESSED]: 409,
  [ErrorCode.REFUND_AMOUNT_TOO_HIGH]: 409,
  [ErrorCode.REFUND_DESTINATION_NOT_ALLOWED]: 409,
  [ErrorCode.REFUND_ALREADY_DECIDED]: 409,
  [ErrorCode.SELF_APPROVAL]: 403,
  [ErrorCode.NOT_AN_ADMIN]: 403,
  [ErrorCode.INVALID_ROTATION_STATE]: 409,
  [ErrorCode.UNKNOWN_MANUAL_STEP]: 404,
  [ErrorCode.WALLET_CURRENCY_MISMATCH]: 409,
  [ErrorCode.ORDER_TOTAL_TOO_LARGE]: 400,
  [ErrorCode.INSUFFICIENT_WALLET_BALANCE]: 409,
  [ErrorCode.ORDER_DISPUTED]: 409,
  [ErrorCode.ORDER_NOT_DELIVERED]: 409,
  [ErrorCode.RETURN_WINDOW_CLOSED]: 409,
  [ErrorCode.RETURN_QUANTITY_TOO_HIGH]: 409,
  [ErrorCode.RETURN_NOT_FOUND]: 404,
  [ErrorCode.INVALID_RETURN_STATE]: 409,
  [ErrorCode.DISPUTE_NOT_FOUND]: 404,
  [ErrorCode.DISPUTE_CLOSED]: 409,
  [ErrorCode.REFUND_NOT_HELD]: 409,
  [ErrorCode.VARIANT_NOT_FOUND]: 404,
  [ErrorCode.VARIANT_REQUIRED]: 400,
  [ErrorCode.STOCK_BELOW_RESERVED]: 409,
  [ErrorCode.SKU_EXISTS]: 409,
  [ErrorCode.RESET_NOT_FOUND]: 404,
  [ErrorCode.INVALID_RESET_STATE]: 409,
  [ErrorCode.RESET_REFUSED]: 409,
  FORBIDDEN: 403,
  VALIDATION: 400,
};

/** The HTTP answer for a workflow's business refusal of `type` (409 when the type is not listed). */
export function refusal(type: string, message: string, details?: unknown): HttpError {
  const fixed = fixedMessages[type];
  const http = new HttpError(
    failureStatus[type] ?? 409,
    type === 'VALIDATION' ? 'VALIDATION_ERROR' : type,
    fixed ?? message,
    fixed ? undefined : details,
  );
  if (fixed) http.internalDetail = message;
  return http;
}

function fromTemporal(error: unknown): HttpError | undefined {
  if (error instanceof WorkflowUpdateFailedError || error instanceof WorkflowFailedError) {
    const cause = error.cause;
    if (cause instanceof ApplicationFailure && cause.type && failureStatus[cause.type])
      return refusal(cause.type, cause.message, cause.details?.[0]);
  }
  if (error instanceof WorkflowNotFoundError) return new HttpError(404, 'NOT_FOUND', 'No such workflow');
  if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    return new HttpError(
      503,
      'TEMPORAL_UNAVAILABLE',
      'The workflow did not answer in time; check its state before trying again',
    );
  }
  if (error instanceof ServiceError) {
    return new HttpError(503, 'TEMPORAL_UNAVAILABLE', 'The workflow service is unavailable; try again shortly');
  }
  return undefined;
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'NOT_FOUND', `No route for ${req.method} ${req.path}`));
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    let http: HttpError | undefined =
      error instanceof HttpError
        ? error
        : error instanceof ZodError
          ? validationError(error)
          : error instanceof InventoryError
            ? refusal(error.code, error.message, error.details)
            : fromTemporal(error);
    // body-parser's own errors carry a status and a type.
    if (!http && error?.type === 'entity.too.large')
      http = new HttpError(413, 'PAYLOAD_TOO_LARGE', 'The request body is too large');
    if (!http && error?.type === 'entity.parse.failed')
      http = new HttpError(400, 'MALFORMED_JSON', 'The request body is not valid JSON');
    if (!http && isDatabaseUnavailable(error))
      http = new HttpError(503, 'DATABASE_UNAVAILABLE', 'The database is unavailable; try again shortly');
    if (!http && typeof error?.status === 'number' && error.status >= 400 && error.status < 500) {
      http = new HttpError(error.status, 'BAD_REQUEST', error.expose ? error.message : 'Bad request');
    }
    if (http?.internalDetail)
      logger.warn({ code: http.code, detail: http.internalDetail, method: req.method, path: req.path }, 'refused');
    if (!http) {
      logger.error({ err: error, method: req.method, path: req.path }, 'unhandled error');
      http = new HttpError(500, 'INTERNAL', 'Something went wrong on our side');
    }
    const retryAfter = (http.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
    if ((http.status === 429 || http.status === 503) && retryAfter) res.setHeader('Retry-After', String(retryAfter));
    res
      .status(http.status)
      .json({ error: { code: http.code, message: http.message, ...(http.details ? { details: http.details } : {}) } });
  };
}
