/**
 * Orders in the states many e2e tests start from, made the way a customer and an admin make them
 * through the HTTP API (and a signed webhook), so each test file shows only what it tests.
 */
import { createProduct, createUser, orderOf, untilOrder, type Stack, type TestUser } from './stack';
import { deliverStripeEvent, paymentIntentEvent } from './webhooks';

/**
 * A card order checked out (one unit of a new product) and waiting for its payment: answered 201,
 * with its PaymentIntent named on its view.
 */
export async function cardCheckout(
  stack: Stack,
  admin: TestUser,
  options: { price?: number; stock?: number; customer?: TestUser } = {},
) {
  const price = options.price ?? 3000;
  const customer = options.customer ?? (await createUser(stack));
  const product = await createProduct(stack, admin, { stock: options.stock ?? 5, price });
  const checkout = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
    customer.token,
  );
  expect(checkout.status).toBe(201);
  const orderId: string = checkout.body.orderId;
  const { paymentIntentId } = await orderOf(stack, orderId, customer.token);
  return { customer, product, orderId, paymentIntentId: paymentIntentId as string, price };
}

/** A card order paid through a signed `payment_intent.succeeded` webhook and CONFIRMED. */
export async function paidCardOrder(
  stack: Stack,
  admin: TestUser,
  options: { price?: number; customer?: TestUser } = {},
) {
  const { customer, product, orderId, paymentIntentId, price } = await cardCheckout(stack, admin, options);
  await deliverStripeEvent(
    stack,
    paymentIntentEvent('payment_intent.succeeded', { id: paymentIntentId, orderId, amount: price, currency: 'usd' }),
  );
  await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
  return { customer, product, orderId, paymentIntentId };
}

/** A wallet-paid order (after a goodwill credit) whose customer asked for a refund that waits for an admin. */
export async function walletOrderAwaitingRefund(
  stack: Stack,
  admin: TestUser,
  options: { price: number; reason: string },
): Promise<{ refundId: string; orderId: string; customer: TestUser }> {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 3, price: options.price });
  const credit = await stack.http.post(
    `/admin/wallets/${customer.id}/credit`,
    { amount: options.price, reason: 'test' },
    admin.token,
  );
  expect(credit.status).toBe(201);
  const checkout = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'wallet' },
    customer.token,
  );
  expect(checkout.status).toBe(201);
  const refund = await stack.http.post(
    `/api/orders/${checkout.body.orderId}/refunds`,
    { reason: options.reason },
    customer.token,
  );
  expect(refund.status).toBe(202);
  return { refundId: refund.body.refundId, orderId: checkout.body.orderId, customer };
}
