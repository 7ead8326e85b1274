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

/** Machine-readable codes of the business errors workflows raise (ApplicationFailure types). */
export const ErrorCode = {
  INSUFFICIENT_STOCK: 'INSUFFICIENT_STOCK',
  PRODUCT_NOT_FOUND: 'PRODUCT_NOT_FOUND',
  CURRENCY_MISMATCH: 'CURRENCY_MISMATCH',
  INVALID_ORDER_STATE: 'INVALID_ORDER_STATE',
  PAYMENT_PROVIDER_UNAVAILABLE: 'PAYMENT_PROVIDER_UNAVAILABLE',
  ORDER_NOT_FOUND: 'ORDER_NOT_FOUND',
  ORDER_NOT_PAID: 'ORDER_NOT_PAID',
  ORDER_ALREADY_SHIPPED: 'ORDER_ALREADY_SHIPPED',
  REFUND_PENDING: 'REFUND_PENDING',
  REFUND_ALREADY_PROCESSED: 'REFUND_ALREADY_PROCESSED',
  REFUND_AMOUNT_TOO_HIGH: 'REFUND_AMOUNT_TOO_HIGH',
  REFUND_DESTINATION_NOT_ALLOWED: 'REFUND_DESTINATION_NOT_ALLOWED',
  REFUND_ALREADY_DECIDED: 'REFUND_ALREADY_DECIDED',
  SELF_APPROVAL: 'SELF_APPROVAL',
  NOT_AN_ADMIN: 'NOT_AN_ADMIN',
  INVALID_ROTATION_STATE: 'INVALID_ROTATION_STATE',
  UNKNOWN_MANUAL_STEP: 'UNKNOWN_MANUAL_STEP',
  WALLET_CURRENCY_MISMATCH: 'WALLET_CURRENCY_MISMATCH',
  ORDER_TOTAL_TOO_LARGE: 'ORDER_TOTAL_TOO_LARGE',
  INSUFFICIENT_WALLET_BALANCE: 'INSUFFICIENT_WALLET_BALANCE',
  ORDER_DISPUTED: 'ORDER_DISPUTED',
  ORDER_NOT_DELIVERED: 'ORDER_NOT_DELIVERED',
  RETURN_WINDOW_CLOSED: 'RETURN_WINDOW_CLOSED',
  RETURN_QUANTITY_TOO_HIGH: 'RETURN_QUANTITY_TOO_HIGH',
  RETURN_NOT_FOUND: 'RETURN_NOT_FOUND',
  INVALID_RETURN_STATE: 'INVALID_RETURN_STATE',
  DISPUTE_NOT_FOUND: 'DISPUTE_NOT_FOUND',
  DISPUTE_CLOSED: 'DISPUTE_CLOSED',
  REFUND_NOT_HELD: 'REFUND_NOT_HELD',
  VARIANT_NOT_FOUND: 'VARIANT_NOT_FOUND',
  VARIANT_REQUIRED: 'VARIANT_REQUIRED',
  STOCK_BELOW_RESERVED: 'STOCK_BELOW_RESERVED',
  SKU_EXISTS: 'SKU_EXISTS',
  RESET_NOT_FOUND: 'RESET_NOT_FOUND',
  INVALID_RESET_STATE: 'INVALID_RESET_STATE',
  RESET_REFUSED: 'RESET_REFUSED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

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
