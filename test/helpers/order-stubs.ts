/**
 * Stubbed activities for the order workflow's steps that the workflow tests of its local steps
 * (checkout-payment-local.test.ts, payment-news-local.test.ts) do not study: the reservation at a
 * fixed price, a PaymentIntent named after its order and attempt, and every later step answering
 * as a healthy database and provider would. Each test file adds or overrides the steps it holds.
 */
import type { Activities } from '../../src/activities';
import type { Actor } from '../../src/workflows/vocabulary';

/** The price of every stubbed line. */
export const UNIT_PRICE = 1250;

type Reservation = Activities['createOrderAndReserveStock'];

/** The stubbed reservation: every line reserved at UNIT_PRICE, in USD. */
export async function reserveAtUnitPrice(input: Parameters<Reservation>[0]): ReturnType<Reservation> {
  const items = input.items.map((i) => ({
    ...i,
    sku: `SKU-${i.productId.slice(-4)}`,
    name: 'Thing',
    unitPrice: UNIT_PRICE,
  }));
  return { totalAmount: items.reduce((sum, i) => sum + i.quantity * i.unitPrice, 0), currency: 'USD', items };
}

/** The order workflow's activities, answering at once; `admin` is the active admin shipments name. */
export function orderStubs(admin: Actor): Partial<Activities> {
  return {
    createOrderAndReserveStock: reserveAtUnitPrice,
    async createPaymentIntent(input) {
      return {
        paymentIntentId: `pi_${input.orderId.slice(0, 8)}_${input.attempt}`,
        clientSecret: `pi_${input.attempt}_secret_test`,
      };
    },
    async recordSignalledPayment() {
      return { outcome: 'RECORDED' };
    },
    async verifyPaymentNews() {
      return { verified: true, by: 'stored-event' };
    },
    async recordPaymentSucceeded() {},
    async recordPaymentFailed() {},
    async confirmOrder() {},
    async cancelOrder() {},
    async cancelPaymentIntent() {
      return { status: 'canceled' };
    },
    async fetchPaymentStatus() {
      return { outcome: 'PENDING', amount: 0, currency: 'USD' };
    },
    async activeAdminNamed() {
      return { admin: { id: admin.id, email: 'warehouse@example.test' }, via: 'api' };
    },
    async markShipped() {},
    async markDelivered() {},
    async sendOrderEmail() {},
  };
}
