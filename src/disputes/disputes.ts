/**
 * Provider disputes (chargebacks) of our payments, one record per provider dispute.
 */
import type { PaymentProvider } from '../workflows/vocabulary';

export const disputeWorkflowId = (provider: PaymentProvider, providerDisputeId: string) =>
  `dispute-${provider.toLowerCase()}-${providerDisputeId}`;
