/**
 * Every admin action records who did it and why, also when it is sent straight through Temporal
 * (the CLI's `temporal workflow update execute`, the Web UI's update form), unsealed: the
 * decision on a refund held for a dispute (release, cancel) is audited by the refund workflow
 * (patch refund-hold-decision-audited) under the admin's account with `via: temporal-update`; a
 * suspended admin is refused and nothing changes; and the API's own decision is audited exactly
 * once, as the API's.
 */
import { randomBytes } from 'node:crypto';
import { decideHeldRefundUpdate, getRefundQuery } from '../../src/workflows/refund/messages';
import { refundWorkflowId } from '../../src/workflows/ids';
import { createUser, eventually, useStack } from '../helpers/stack';
import { updateRefusal } from '../helpers/workflow-worker';
import { deliverStripeEvent } from '../helpers/webhooks';
import { paidCardOrder } from '../helpers/orders';

const { stack, admin } = useStack();

/**
 * A customer's card order, paid, its refund to the wallet asked for and approved by an admin
 * while a Stripe dispute of the payment is open: the refund is held for a decision.
 */
async function heldRefund(price: number) {
  const { customer, orderId, paymentIntentId } = await paidCardOrder(stack, admin, { price });
  const asked = await stack.http.post(
    `/api/orders/${orderId}/refunds`,
    { reason: 'changed my mind', destination: 'WALLET' },
    customer.token,
  );
  expect(asked.status).toBe(202);
  const refundId: string = asked.body.refundId;
  const disputeId = `dp_${randomBytes(8).toString('hex')}`;
  const opened = await deliverStripeEvent(stack, {
    id: `evt_${randomBytes(12).toString('hex')}`,
    object: 'event',
    type: 'charge.dispute.created',
    created: Math.floor(Date.now() / 1000),
    data: {
      object: {
        id: disputeId,
        object: 'dispute',
        amount: price,
        currency: 'usd',
        reason: 'fraudulent',
        status: 'needs_response',
        charge: `ch_${randomBytes(8).toString('hex')}`,
        payment_intent: paymentIntentId,
        evidence_details: { due_by: Math.floor(Date.now() / 1000) + 86_400 },
      },
    },
  });
  expect(opened.status).toBe(200);
  await eventually(
    async () => (await stack.prisma.dispute.findFirst({ where: { providerDisputeId: disputeId } }))?.status === 'OPEN',
    'dispute open',
  );
  const approver = await createUser(stack, 'ADMIN');
  const approved = await stack.http.post(`/admin/refunds/${refundId}/approve`, { reason: 'ok' }, approver.token);
  expect(approved.status).toBe(200);
  const handle = stack.temporal.workflow.getHandle(refundWorkflowId(refundId));
  await eventually(async () => (await handle.query(getRefundQuery)).heldFor === disputeId, 'held');
  return { customer, refundId, disputeId, handle };
}

const holdAudits = (refundId: string) =>
  stack.prisma.auditLog.findMany({
    where: { targetId: refundId, action: { in: ['REFUND_RELEASED', 'REFUND_CANCELLED'] } },
  });

test('a held refund released by an update typed into Temporal: a suspended admin is refused and nothing changes; an active admin by email releases it, audited once under their account as sent through Temporal', async () => {
  const { customer, refundId, disputeId, handle } = await heldRefund(3000);
  const suspended = await createUser(stack, 'ADMIN');
  await stack.prisma.user.update({ where: { id: suspended.id }, data: { status: 'SUSPENDED' } });

  // What `temporal workflow update execute --name decideHeldRefund` sends: any name, no API seal.
  for (const named of [suspended.email, suspended.id, customer.id]) {
    const refused = await updateRefusal(
      handle.executeUpdate(decideHeldRefundUpdate, {
        args: [{ adminId: named, reason: 'from the CLI', release: true }],
      }),
    );
    expect({ type: refused.type, message: refused.message }).toEqual({
      type: 'NOT_AN_ADMIN',
      message: `${named} is not an active admin`,
    });
  }
  expect(await handle.query(getRefundQuery)).toMatchObject({ status: 'APPROVED', heldFor: disputeId });
  expect((await stack.prisma.refund.findUniqueOrThrow({ where: { id: refundId } })).status).toBe('APPROVED');
  expect((await stack.prisma.wallet.findUnique({ where: { userId: customer.id } }))?.balance ?? 0).toBe(0);
  expect(await holdAudits(refundId)).toEqual([]);

  // An active admin names themself by email, with a seal that is not the API's.
  const released = await handle.executeUpdate(decideHeldRefundUpdate, {
    args: [
      {
        adminId: admin.email.toUpperCase(),
        reason: 'the customer will withdraw the dispute',
        release: true,
        apiSeal: 'local-1.forged',
      },
    ],
  });
  expect(released).toMatchObject({ status: 'COMPLETED', walletCredited: 3000, holdDecisionAudited: true });
  expect(released.timeline.find((e) => e.event === 'REFUND_RELEASED')?.actor).toEqual({ id: admin.id, role: 'ADMIN' });
  expect((await stack.prisma.wallet.findUniqueOrThrow({ where: { userId: customer.id } })).balance).toBe(3000);
  expect(await holdAudits(refundId)).toEqual([
    expect.objectContaining({
      actorId: admin.id,
      action: 'REFUND_RELEASED',
      reason: 'the customer will withdraw the dispute',
      before: { status: 'APPROVED', heldFor: disputeId },
      after: { status: 'APPROVED', via: 'temporal-update', named: admin.email.toUpperCase() },
    }),
  ]);
});

test('a held refund cancelled through the API is audited exactly once, as the API decision', async () => {
  const { refundId, disputeId, handle } = await heldRefund(2000);
  const cancelled = await stack.http.post(
    `/admin/refunds/${refundId}/cancel`,
    { reason: 'the bank is refunding it' },
    admin.token,
  );
  expect(cancelled.status).toBe(200);
  expect(cancelled.body).toMatchObject({ status: 'FAILED', walletCredited: 0 });
  expect((await handle.query(getRefundQuery)).holdDecisionAudited).toBe(true);
  expect(await holdAudits(refundId)).toEqual([
    expect.objectContaining({
      actorId: admin.id,
      action: 'REFUND_CANCELLED',
      reason: 'the bank is refunding it',
      before: { status: 'APPROVED', heldFor: disputeId },
      after: { status: 'FAILED' },
    }),
  ]);
});
