/**
 * An admin re-sends a confirmed order's confirmation (runbook scenario 1's last step): the
 * customer gets it again, the action is audited with who and why, and an unconfirmed or unknown
 * order is refused. The CLI does the same. And the worker's SMTP pool: order emails share a
 * connection, and a connection the relay drops costs no email.
 */
import { randomUUID } from 'node:crypto';
import {
  createProduct,
  createUser,
  eventually,
  mailsTo,
  runOps,
  untilOrder,
  useStack,
  type TestUser,
} from '../helpers/stack';

const { stack, admin } = useStack();

/** A cash-on-delivery order of one unit, CONFIRMED, and its confirmation email once it has arrived. */
async function confirmedCodOrder(customer: TestUser, productId: string) {
  const placed = await stack.http.post(
    '/api/checkout',
    { items: [{ productId, quantity: 1 }], paymentMethod: 'cod' },
    customer.token,
  );
  const orderId: string = placed.body.orderId;
  await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CONFIRMED', 'confirmed');
  const mail = () => mailsTo(stack, customer.email, 'confirmed').filter((m) => m.subject.includes(orderId));
  await eventually(async () => mail().length === 1, `the confirmation of ${orderId}`);
  return { orderId, mail: mail()[0] };
}

test('POST /admin/orders/:id/send-confirmation sends the confirmation again, audited; only for a confirmed order', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 5 });
  const { orderId } = await confirmedCodOrder(customer, product.id);

  const resent = await stack.http.post(
    `/admin/orders/${orderId}/send-confirmation`,
    { reason: 'Customer lost the email' },
    admin.token,
  );
  expect(resent.status).toBe(202);
  expect(resent.body.workflowId).toBe(`order-email-${orderId}-${resent.body.sendId}`);
  await eventually(async () => mailsTo(stack, customer.email, 'confirmed').length === 2, 'the confirmation again');
  const audited = await stack.prisma.auditLog.findMany({
    where: { action: 'ORDER_CONFIRMATION_RESENT', targetId: orderId },
  });
  expect(audited).toEqual([expect.objectContaining({ actorId: admin.id, reason: 'Customer lost the email' })]);

  const viaOps = await runOps(stack, admin.email, 'orders', 'send-confirmation', orderId, '--reason', 'asked again');
  expect(viaOps.code).toBe(0);
  await eventually(async () => mailsTo(stack, customer.email, 'confirmed').length === 3, 'a third time, from the CLI');

  const unpaid = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card' },
    customer.token,
  );
  const refused = await stack.http.post(`/admin/orders/${unpaid.body.orderId}/send-confirmation`, {}, admin.token);
  expect([refused.status, refused.body.error.code]).toEqual([409, 'INVALID_ORDER_STATE']);
  const unknown = await stack.http.post(`/admin/orders/${randomUUID()}/send-confirmation`, {}, admin.token);
  expect([unknown.status, unknown.body.error.code]).toEqual([404, 'ORDER_NOT_FOUND']);
  expect((await stack.http.post(`/admin/orders/${orderId}/send-confirmation`, {}, customer.token)).status).toBe(403);
  expect(mailsTo(stack, customer.email, 'confirmed')).toHaveLength(3);
});

test('order emails share one pooled SMTP connection, and one dropped by the relay loses no email', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 5 });
  const confirmedOrder = async () => (await confirmedCodOrder(customer, product.id)).mail;

  const first = await confirmedOrder();
  const second = await confirmedOrder();
  expect(second.sessionId).toBe(first.sessionId);

  stack.smtp.dropConnections();
  const third = await confirmedOrder();
  expect(third.sessionId).not.toBe(first.sessionId);
  expect(mailsTo(stack, customer.email, 'confirmed')).toHaveLength(3);
});
