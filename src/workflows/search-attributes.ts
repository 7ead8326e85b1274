import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes, so `temporal workflow list --query 'OrderStatus="PENDING"'` works.
 * Workers register them at start (ensureSearchAttributes); dev servers this project starts get
 * every one of them (scripts/lib/services.ts).
 */
export const searchAttributes = {
  orderId: defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD),
  customerId: defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD),
  orderStatus: defineSearchAttributeKey('OrderStatus', SearchAttributeType.KEYWORD),
  backfillName: defineSearchAttributeKey('BackfillName', SearchAttributeType.KEYWORD),
  backfillProcessed: defineSearchAttributeKey('BackfillProcessed', SearchAttributeType.INT),
  importRowsRead: defineSearchAttributeKey('ImportRowsRead', SearchAttributeType.INT),
};
