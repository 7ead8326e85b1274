/**
 * Issue 13 point 5, admin requests: a shipment, delivery or refund decision sent through Temporal
 * itself (the Web UI's update form or the CLI, encoded by our codec) must name an active admin,
 * by id or email, checked by the one active-admin check. A suspended or unknown admin is refused
 * and nothing changes; an active one is recorded under their account and audited as sent through
 * Temporal. The API's own requests carry its seal and are audited as the API's, as before.
 */
import { randomUUID } from 'node:crypto';
import { deliverOrderUpdate, shipOrderUpdate } from '../../src/workflows/order/messages';
import { approveRefundUpdate } from '../../src/workflows/refund/messages';
import { orderWorkflowId, refundWorkflowId } from '../../src/workflows/ids';
import { createProduct, createUser, useStack } from '../helpers/stack';
import { updateRefusal } from '../helpers/workflow-worker';
import { walletOrderAwaitingRefund } from '../helpers/orders';

const { stack, admin } = useStack();

test('a shipment typed into Temporal naming a suspended or unknown admin is refused and changes nothing; an active admin by email ships, audited as sent through Temporal', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 3, price: 1200 });
  const checkout = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'cod' },
    customer.token,
  );
  expect(checkout.status).toBe(201);
  const orderId: string = checkout.body.orderId;
  const handle = stack.temporal.workflow.getHandle(orderWorkflowId(orderId));
  const suspended = await createUser(stack, 'ADMIN');
  await stack.prisma.user.update({ where: { id: suspended.id }, data: { status: 'SUSPENDED' } });

  // What the Web UI's update form sends (encoded by the codec endpoint): any name, role "ADMIN".
  for (const named of [suspended.email, suspended.id, randomUUID(), customer.id, 'nobody@example.test']) {
    const refused = await updateRefusal(
      handle.executeUpdate(shipOrderUpdate, { args: [{ actor: { id: named, role: 'ADMIN' }, trackingNumber: 'X-1' }] }),
    );
    expect({ type: refused.type, message: refused.message }).toEqual({
      type: 'NOT_AN_ADMIN',
      message: `${named} is not an active admin`,
    });
  }
  const untouched = await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
  expect({ status: untouched.status, trackingNumber: untouched.trackingNumber }).toEqual({
    status: 'CONFIRMED',
    trackingNumber: null,
  });
  expect(await stack.prisma.auditLog.count({ where: { targetId: orderId, action: 'ORDER_SHIPPED' } })).toBe(0);

  // An active admin names themself by email; a seal that is not the API's makes it no API request.
  const shipped = await handle.executeUpdate(shipOrderUpdate, {
    args: [
      {
        actor: { id: admin.email.toUpperCase(), role: 'ADMIN' },
        trackingNumber: 'UI-42',
        apiSeal: 'local-1.forged',
      },
    ],
  });
  expect(shipped.timeline.find((e) => e.event === 'ORDER_SHIPPED')?.actor).toEqual({ id: admin.id, role: 'ADMIN' });
  expect(shipped.timeline.filter((e) => e.event === 'SHIPMENT_REFUSED')).toHaveLength(5);
  expect((await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).status).toBe('SHIPPED');
  expect(await stack.prisma.auditLog.findMany({ where: { targetId: orderId, action: 'ORDER_SHIPPED' } })).toEqual([
    expect.objectContaining({
      actorId: admin.id,
      reason: 'tracking UI-42',
      after: { status: 'SHIPPED', paymentStatus: 'PENDING', via: 'temporal-update', named: admin.email.toUpperCase() },
    }),
  ]);

  // Delivery: the unknown refused, then the API's (sealed) request, audited once, by the API.
  const deliverRefused = await updateRefusal(
    handle.executeUpdate(deliverOrderUpdate, { args: [{ actor: { id: randomUUID(), role: 'ADMIN' } }] }),
  );
  expect(deliverRefused.type).toBe('NOT_AN_ADMIN');
  expect((await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).status).toBe('SHIPPED');
  const delivered = await stack.http.post(`/admin/orders/${orderId}/deliver`, {}, admin.token);
  expect(delivered.status).toBe(200);
  expect(delivered.body.status).toBe('DELIVERED');
  const deliveries = await stack.prisma.auditLog.findMany({ where: { targetId: orderId, action: 'ORDER_DELIVERED' } });
  expect(deliveries).toEqual([expect.objectContaining({ actorId: admin.id })]);
  expect(deliveries[0].after).not.toHaveProperty('via');
  const order = await stack.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
  expect({ status: order.status, paymentStatus: order.paymentStatus }).toEqual({
    status: 'DELIVERED',
    paymentStatus: 'PAID',
  });
});

test('a shipment through the API carries its seal: audited once, by the API, not as sent through Temporal', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 3, price: 900 });
  const checkout = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'cod' },
    customer.token,
  );
  const orderId: string = checkout.body.orderId;
  const shipped = await stack.http.post(
    `/admin/orders/${orderId}/ship`,
    { trackingNumber: 'API-7', carrier: 'DHL' },
    admin.token,
  );
  expect(shipped.status).toBe(200);
  const audits = await stack.prisma.auditLog.findMany({ where: { targetId: orderId, action: 'ORDER_SHIPPED' } });
  expect(audits).toEqual([expect.objectContaining({ actorId: admin.id, reason: 'tracking API-7' })]);
  expect(audits[0].after).not.toHaveProperty('via');
});

test('a refund decision sent as an update through Temporal (the CLI) is checked by the same rule and audited as sent through Temporal, not as the API', async () => {
  const { refundId } = await walletOrderAwaitingRefund(stack, admin, { price: 2500, reason: 'arrived late' });
  const handle = stack.temporal.workflow.getHandle(refundWorkflowId(refundId));
  const suspended = await createUser(stack, 'ADMIN');
  await stack.prisma.user.update({ where: { id: suspended.id }, data: { status: 'SUSPENDED' } });

  // What `temporal workflow update execute --name approveRefund` sends: any name, no API seal.
  const refused = await updateRefusal(
    handle.executeUpdate(approveRefundUpdate, { args: [{ adminId: suspended.email, reason: 'from the CLI' }] }),
  );
  expect({ type: refused.type, message: refused.message }).toEqual({
    type: 'NOT_AN_ADMIN',
    message: `${suspended.email} is not an active admin`,
  });
  expect((await stack.prisma.refund.findUniqueOrThrow({ where: { id: refundId } })).status).toBe('PENDING_APPROVAL');
  expect(await stack.prisma.auditLog.count({ where: { targetId: refundId, action: 'REFUND_APPROVED' } })).toBe(0);

  // An active admin by email, with a seal that is not the API's: approved, audited as sent through Temporal.
  const approved = await handle.executeUpdate(approveRefundUpdate, {
    args: [{ adminId: admin.email.toUpperCase(), reason: 'from the CLI', apiSeal: 'local-1.forged' }],
  });
  expect(approved).toMatchObject({ status: 'COMPLETED', decidedBy: admin.id, walletCredited: 2500 });
  expect(await stack.prisma.refund.findUniqueOrThrow({ where: { id: refundId } })).toMatchObject({
    status: 'COMPLETED',
    decidedBy: admin.id,
  });
  expect(await stack.prisma.auditLog.findMany({ where: { targetId: refundId, action: 'REFUND_APPROVED' } })).toEqual([
    expect.objectContaining({
      actorId: admin.id,
      reason: 'from the CLI',
      after: { status: 'APPROVED', decidedBy: admin.id, via: 'temporal-update', named: admin.email.toUpperCase() },
    }),
  ]);
});
