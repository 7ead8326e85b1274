/**
 * Every workflow id, built and parsed here and nowhere else. Ids are business keys (DESIGN.md,
 * "Money and identity"): starting a workflow under its key is what makes a second start of the
 * same business thing impossible, and what lets any part of the system find it again from the
 * key alone. Pure functions, so workflows, the API, activities and the CLI all share them.
 */
import { keyPurposes, type KeyPurpose, type PaymentProvider } from './vocabulary';

export const orderWorkflowId = (orderId: string) => `order-${orderId}`;
/** The one placeOrder update of an order's workflow: a retried checkout attaches to it (Temporal dedupes update ids). */
export const checkoutUpdateId = (orderId: string) => `checkout-${orderId}`;
export const refundWorkflowId = (refundId: string) => `refund-${refundId}`;
export const webhookWorkflowId = (provider: PaymentProvider, eventId: string) =>
  `webhook-${provider.toLowerCase()}-${eventId}`;
/** A rotation started by an admin (a uuid), or by the JWT Schedule (`scheduled`, plus the Schedule's own suffix). */
export const keyRotationWorkflowId = (purpose: KeyPurpose, rotationId: string) =>
  `key-rotation-${purpose}-${rotationId}`;
/** Where a purpose's rotations' ids start: to find the ones running. */
export const keyRotationIdPrefix = (purpose: KeyPurpose) => `key-rotation-${purpose}-`;
export const inventoryResetWorkflowId = (resetId: string) => `inventory-reset-${resetId}`;
export const priceScheduleWorkflowId = (scheduleId: string) => `price-schedule-${scheduleId}`;
export const productImportWorkflowId = (importId: string) => `product-import-${importId}`;
export const backfillWorkflowId = (name: string, backfillId: string) => `backfill-${name}-${backfillId}`;
export const returnWorkflowId = (returnId: string) => `return-${returnId}`;
export const disputeWorkflowId = (provider: PaymentProvider, disputeId: string) =>
  `dispute-${provider.toLowerCase()}-${disputeId}`;

/** What a workflow id names: its kind and its business key; undefined for an id that is none of ours. */
export type ParsedWorkflowId =
  | { kind: 'order'; orderId: string }
  | { kind: 'refund'; refundId: string }
  | { kind: 'webhook'; provider: PaymentProvider; eventId: string }
  | { kind: 'key-rotation'; purpose: KeyPurpose; rotationId: string }
  | { kind: 'inventory-reset'; resetId: string }
  | { kind: 'product-import'; importId: string }
  | { kind: 'price-schedule'; scheduleId: string }
  | { kind: 'return'; returnId: string }
  | { kind: 'dispute'; provider: PaymentProvider; disputeId: string };

const providers: readonly PaymentProvider[] = ['STRIPE', 'RAZORPAY'];

function providerKeyed(rest: string): { provider: PaymentProvider; key: string } | undefined {
  const provider = providers.find((p) => rest.startsWith(`${p.toLowerCase()}-`));
  const key = provider && rest.slice(provider.length + 1);
  return provider && key ? { provider, key } : undefined;
}

function after(id: string, prefix: string): string | undefined {
  return id.startsWith(prefix) && id.length > prefix.length ? id.slice(prefix.length) : undefined;
}

export function parseWorkflowId(id: string): ParsedWorkflowId | undefined {
  let rest: string | undefined;
  // Longer prefixes first: `key-rotation-` before anything shorter that could also match.
  if ((rest = after(id, 'key-rotation-'))) {
    const purpose = keyPurposes.find((p) => rest!.startsWith(`${p}-`));
    const rotationId = purpose && rest.slice(purpose.length + 1);
    return purpose && rotationId ? { kind: 'key-rotation', purpose, rotationId } : undefined;
  }
  if ((rest = after(id, 'inventory-reset-'))) return { kind: 'inventory-reset', resetId: rest };
  if ((rest = after(id, 'product-import-'))) return { kind: 'product-import', importId: rest };
  if ((rest = after(id, 'price-schedule-'))) return { kind: 'price-schedule', scheduleId: rest };
  if ((rest = after(id, 'webhook-'))) {
    const keyed = providerKeyed(rest);
    return keyed && { kind: 'webhook', provider: keyed.provider, eventId: keyed.key };
  }
  if ((rest = after(id, 'dispute-'))) {
    const keyed = providerKeyed(rest);
    return keyed && { kind: 'dispute', provider: keyed.provider, disputeId: keyed.key };
  }
  if ((rest = after(id, 'order-'))) return { kind: 'order', orderId: rest };
  if ((rest = after(id, 'refund-'))) return { kind: 'refund', refundId: rest };
  if ((rest = after(id, 'return-'))) return { kind: 'return', returnId: rest };
  return undefined;
}

/** The purpose a key rotation's workflow id names, or undefined when it names no rotation. */
export function keyRotationPurpose(workflowId: string): KeyPurpose | undefined {
  const parsed = parseWorkflowId(workflowId);
  return parsed?.kind === 'key-rotation' ? parsed.purpose : undefined;
}
