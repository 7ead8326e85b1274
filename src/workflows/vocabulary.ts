/**
 * The words every part of the system shares: order and payment statuses, roles, providers, the
 * actor recorded with each transition, the keyring's purposes, and the closed vocabulary of
 * business error codes. Workflows, activities, the API and the CLI import them from here, never
 * from a workflow's message contract. Pure declarations, so the workflow bundle can carry it.
 */

export type OrderStatus =
  'PENDING' | 'PAID' | 'CONFIRMED' | 'SHIPPED' | 'DELIVERED' | 'CANCELLED' | 'REFUNDED' | 'PARTIALLY_REFUNDED';
export type PaymentStatus = 'PENDING' | 'PAID' | 'FAILED' | 'REFUNDED' | 'PARTIALLY_REFUNDED';
export type PaymentMethod = 'CARD' | 'COD' | 'WALLET';
export type Role = 'CUSTOMER' | 'ADMIN';
export type PaymentProvider = 'STRIPE' | 'RAZORPAY';

/** Who asked for something: recorded with every transition so the history says who did what. */
export interface Actor {
  id: string;
  role: Role | 'SYSTEM';
}

/** The system itself as the actor of a transition: a timer, a policy, a provider's news, a rollback. */
export const SYSTEM: Actor = { id: 'system', role: 'SYSTEM' };

/**
 * The one closed vocabulary of machine-readable error codes: every refusal a workflow raises (its
 * ApplicationFailure type), every DomainError a capability throws, and every code the API or the
 * CLI reports. The API maps each to an HTTP status (src/api/errors.ts, a table the compiler keeps
 * complete), the CLI to an exit code (scripts/ops.ts). A provider's own refusal keeps the
 * provider's words (`STRIPE_<code>`, `RAZORPAY_<code>`, see ProviderRefusalCode): those are not ours
 * to close.
 */
export const ErrorCode = {
  // Orders and inventory
  INSUFFICIENT_STOCK: 'INSUFFICIENT_STOCK',
  PRODUCT_NOT_FOUND: 'PRODUCT_NOT_FOUND',
  SKU_EXISTS: 'SKU_EXISTS',
  CURRENCY_MISMATCH: 'CURRENCY_MISMATCH',
  INVALID_ORDER_STATE: 'INVALID_ORDER_STATE',
  ORDER_NOT_FOUND: 'ORDER_NOT_FOUND',
  ORDER_TOTAL_TOO_LARGE: 'ORDER_TOTAL_TOO_LARGE',
  // Payments and webhooks
  PAYMENT_PROVIDER_UNAVAILABLE: 'PAYMENT_PROVIDER_UNAVAILABLE',
  PAYMENTS_DISABLED: 'PAYMENTS_DISABLED',
  NO_PROVIDER_PAYMENT: 'NO_PROVIDER_PAYMENT',
  INVALID_SIGNATURE: 'INVALID_SIGNATURE',
  MISSING_SIGNATURE: 'MISSING_SIGNATURE',
  MALFORMED_EVENT: 'MALFORMED_EVENT',
  STALE_EVENT: 'STALE_EVENT',
  WEBHOOK_FAILED: 'WEBHOOK_FAILED',
  // Refunds and wallet
  ORDER_NOT_PAID: 'ORDER_NOT_PAID',
  ORDER_ALREADY_SHIPPED: 'ORDER_ALREADY_SHIPPED',
  REFUND_NOT_FOUND: 'REFUND_NOT_FOUND',
  REFUND_PENDING: 'REFUND_PENDING',
  REFUND_ALREADY_PROCESSED: 'REFUND_ALREADY_PROCESSED',
  REFUND_AMOUNT_TOO_HIGH: 'REFUND_AMOUNT_TOO_HIGH',
  REFUND_DESTINATION_NOT_ALLOWED: 'REFUND_DESTINATION_NOT_ALLOWED',
  REFUND_ALREADY_DECIDED: 'REFUND_ALREADY_DECIDED',
  SELF_APPROVAL: 'SELF_APPROVAL',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  INVALID_IDEMPOTENCY_KEY: 'INVALID_IDEMPOTENCY_KEY',
  REFUND_REFUSED: 'REFUND_REFUSED',
  WALLET_CURRENCY_MISMATCH: 'WALLET_CURRENCY_MISMATCH',
  WALLET_BALANCE_LIMIT: 'WALLET_BALANCE_LIMIT',
  INSUFFICIENT_WALLET_BALANCE: 'INSUFFICIENT_WALLET_BALANCE',
  // Returns and disputes
  ORDER_DISPUTED: 'ORDER_DISPUTED',
  ORDER_NOT_DELIVERED: 'ORDER_NOT_DELIVERED',
  RETURN_WINDOW_CLOSED: 'RETURN_WINDOW_CLOSED',
  RETURN_QUANTITY_TOO_HIGH: 'RETURN_QUANTITY_TOO_HIGH',
  RETURN_NOT_FOUND: 'RETURN_NOT_FOUND',
  INVALID_RETURN_STATE: 'INVALID_RETURN_STATE',
  DISPUTE_NOT_FOUND: 'DISPUTE_NOT_FOUND',
  DISPUTE_CLOSED: 'DISPUTE_CLOSED',
  REFUND_NOT_HELD: 'REFUND_NOT_HELD',
  // Inventory and catalogue
  VARIANT_NOT_FOUND: 'VARIANT_NOT_FOUND',
  VARIANT_REQUIRED: 'VARIANT_REQUIRED',
  STOCK_BELOW_RESERVED: 'STOCK_BELOW_RESERVED',
  RESET_NOT_FOUND: 'RESET_NOT_FOUND',
  INVALID_RESET_STATE: 'INVALID_RESET_STATE',
  RESET_REFUSED: 'RESET_REFUSED',
  IMPORT_NOT_FOUND: 'IMPORT_NOT_FOUND',
  RETURN_REFUSED: 'RETURN_REFUSED',
  PRICE_SCHEDULE_NOT_FOUND: 'PRICE_SCHEDULE_NOT_FOUND',
  PRICE_SCHEDULE_OVERLAP: 'PRICE_SCHEDULE_OVERLAP',
  INVALID_PRICE_SCHEDULE_STATE: 'INVALID_PRICE_SCHEDULE_STATE',
  // Keys
  INVALID_ROTATION_STATE: 'INVALID_ROTATION_STATE',
  ROTATION_NOT_FOUND: 'ROTATION_NOT_FOUND',
  ROTATION_IN_PROGRESS: 'ROTATION_IN_PROGRESS',
  SECRET_NOT_SUPPLIED: 'SECRET_NOT_SUPPLIED',
  UNKNOWN_MANUAL_STEP: 'UNKNOWN_MANUAL_STEP',
  KEY_VERIFICATION_FAILED: 'KEY_VERIFICATION_FAILED',
  DATABASE_ADMIN_REFUSED: 'DATABASE_ADMIN_REFUSED',
  UNDECODABLE_PAYLOAD: 'UNDECODABLE_PAYLOAD',
  // Access
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  INVALID_CREDENTIALS: 'INVALID_CREDENTIALS',
  ACCOUNT_SUSPENDED: 'ACCOUNT_SUSPENDED',
  TOO_MANY_ATTEMPTS: 'TOO_MANY_ATTEMPTS',
  FORBIDDEN: 'FORBIDDEN',
  NOT_AN_ADMIN: 'NOT_AN_ADMIN',
  SELF_ACTION: 'SELF_ACTION',
  WRONG_PASSWORD: 'WRONG_PASSWORD',
  PASSWORD_UNCHANGED: 'PASSWORD_UNCHANGED',
  USER_NOT_FOUND: 'USER_NOT_FOUND',
  EMAIL_TAKEN: 'EMAIL_TAKEN',
  BOOTSTRAP_CLOSED: 'BOOTSTRAP_CLOSED',
  // Any request
  MAINTENANCE: 'MAINTENANCE',
  VALIDATION_ERROR: 'VALIDATION_ERROR',
  BAD_REQUEST: 'BAD_REQUEST',
  MALFORMED_JSON: 'MALFORMED_JSON',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  NOT_FOUND: 'NOT_FOUND',
  TEMPORAL_UNAVAILABLE: 'TEMPORAL_UNAVAILABLE',
  WORKFLOW_TASK_FAILED: 'WORKFLOW_TASK_FAILED',
  DATABASE_UNAVAILABLE: 'DATABASE_UNAVAILABLE',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
/** A payment provider's own refusal, named in its words (a card declined, a charge disputed). */
export type ProviderRefusalCode = `STRIPE_${string}` | `RAZORPAY_${string}`;

/** What a refusal may be coded with: one of ours, or the provider's own. */
export type RefusalCode = ErrorCode | ProviderRefusalCode;

/** Whether `code` (an ApplicationFailure type, say) is one of ours. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ErrorCode, code);
}

/** A stored refusal code (a refund's failureCode, say) read back: ours, the provider's, or `fallback`. */
export function refusalCode(code: string | null | undefined, fallback: ErrorCode): RefusalCode {
  if (isErrorCode(code)) return code;
  if (code && /^(STRIPE|RAZORPAY)_/.test(code)) return code as ProviderRefusalCode;
  return fallback;
}

/** What the keyring holds, one versioned secret per purpose. */
export const keyPurposes = [
  'JWT_SIGNING',
  'STRIPE_API_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'RAZORPAY_KEY',
  'RAZORPAY_WEBHOOK_SECRET',
  'DATABASE_PASSWORD',
] as const;
export type KeyPurpose = (typeof keyPurposes)[number];
/** Secrets a provider issues: an admin copies them from its dashboard; the others are generated. */
export const suppliedKeyPurposes: readonly KeyPurpose[] = [
  'STRIPE_API_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'RAZORPAY_KEY',
  'RAZORPAY_WEBHOOK_SECRET',
];
