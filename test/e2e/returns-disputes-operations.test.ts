/**
 * Returns and disputes for the people on call, through the real parts: the ops CLI lists,
 * shows, receives and rejects returns and records a dispute's evidence (the same operations as
 * the admin API, audited under the acting admin with the note or reason; refusals exit 2 with
 * their code); a dispute opened by a signed Stripe webhook shows on /metrics (open disputes,
 * evidence due within 48 h) and opens the dispute_deadline_within_48h alert once, which resolves
 * once when the evidence is in; both show in the order's history.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ensureAlertSchedule } from '../../src/monitoring/alert-schedule';
import { sample, scrape } from '../helpers/metrics';
import {
  createProduct,
  createUser,
  eventually,
  mailsTo,
  orderOf,
  runOps,
  untilOrder,
  useStack,
  type TestUser,
} from '../helpers/stack';
import { deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';

// Each ops command is a process of its own (tsx compiles the CLI at start-up: seconds each on a
// loaded machine), and the first test runs thirteen of them.
jest.setTimeout(300_000);

// A database of its own: the gauges and the alert rule count across whole tables.
const { stack, admin } = useStack({
  isolatedDatabase: true,
  env: { ALERT_EVALUATION_INTERVAL: '1s', REFUND_SETTLE_CHECK_AFTER: '1s' },
});

/** A card order of `quantity` units paid by a signed webhook (and delivered, when asked). */
async function paidOrder(quantity: number, price: number, options: { deliver?: boolean } = {}) {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 10, price });
  const checkout = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity }], paymentMethod: 'card' },
    customer.token,
  );
  expect(checkout.status).toBe(201);
  const orderId: string = checkout.body.orderId;
  const { paymentIntentId } = await orderOf(stack, orderId, customer.token);
  await deliverStripeEvent(
    stack,
    paymentIntentEvent('payment_intent.succeeded', {
      id: paymentIntentId,
      orderId,
      amount: price * quantity,
      currency: 'usd',
    }),
  );
  await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CONFIRMED', 'CONFIRMED');
  if (options.deliver) {
    expect((await stack.http.post(`/admin/orders/${orderId}/ship`, { trackingNumber: 'T' }, admin.token)).status).toBe(
      200,
    );
    expect((await stack.http.post(`/admin/orders/${orderId}/deliver`, {}, admin.token)).status).toBe(200);
  }
  return { customer, product, orderId, paymentIntentId: paymentIntentId as string };
}

async function askReturn(customer: TestUser, orderId: string, productId: string, quantity: number) {
  const asked = await stack.http.post(
    `/api/orders/${orderId}/returns`,
    { lines: [{ productId, quantity }], reason: 'does not fit' },
    customer.token,
  );
  expect(asked.status).toBe(202);
  return asked.body.returnId as string;
}

const ops = (...args: string[]) => runOps(stack, admin.email, ...args);
/** The JSON a command printed; a command that failed fails the test with what it said. */
const json = (result: { code: number; stdout: string; stderr: string }) => {
  if (result.code !== 0) throw new Error(`ops exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout);
};

test('ops returns: list and show with filters, receive (a refusal exits 2 with its code), reject; audited as the admin', async () => {
  const { customer, product, orderId } = await paidOrder(2, 1500, { deliver: true });
  const returnId = await askReturn(customer, orderId, product.id, 2);

  const listed = json(await ops('returns', 'list', '--status', 'REQUESTED', '--order', orderId));
  expect(listed.returns.map((r: { returnId: string }) => r.returnId)).toEqual([returnId]);
  expect(json(await ops('returns', 'list', '--status', 'REFUNDED', '--order', orderId)).returns).toEqual([]);
  expect(json(await ops('returns', 'show', returnId))).toMatchObject({
    returnId,
    orderId,
    status: 'REQUESTED',
    lines: [{ productId: product.id, quantity: 2, restocked: 0, damaged: 0 }],
  });

  // Bad usage and refusals: exit 2, nothing recorded.
  const badLine = await ops('returns', 'receive', returnId, '--line', `${product.id}:two:RESTOCK`);
  expect(badLine.code).toBe(2);
  expect(badLine.stderr).toContain('<productId>:<quantity>:<RESTOCK|DAMAGED>');
  expect((await ops('returns', 'show', 'not-an-id')).code).toBe(2);
  const unknown = await ops('returns', 'show', randomUUID());
  expect({ code: unknown.code, stderr: unknown.stderr }).toEqual({
    code: 2,
    stderr: expect.stringContaining('(RETURN_NOT_FOUND)'),
  });
  const tooMany = await ops('returns', 'receive', returnId, '--line', `${product.id}:3:RESTOCK`);
  expect({ code: tooMany.code, stderr: tooMany.stderr }).toEqual({
    code: 2,
    stderr: expect.stringContaining('(RETURN_QUANTITY_TOO_HIGH)'),
  });
  expect((await stack.prisma.return.findUniqueOrThrow({ where: { id: returnId } })).status).toBe('REQUESTED');

  const received = json(
    await ops(
      'returns',
      'receive',
      returnId,
      '--line',
      `${product.id}:1:RESTOCK`,
      '--line',
      `${product.id}:1:damaged`,
      '--note',
      'one unit scratched',
    ),
  );
  expect(received).toMatchObject({ status: 'RECEIVED', refundAmount: 3000, receivedBy: admin.id });
  const refunded = await eventually(async () => {
    const row = await stack.prisma.return.findUniqueOrThrow({ where: { id: returnId }, include: { lines: true } });
    return row.status === 'REFUNDED' && row;
  }, 'return refunded');
  expect(refunded.lines[0]).toMatchObject({ restocked: 1, damaged: 1 });
  expect(
    await stack.prisma.auditLog.findFirst({ where: { targetId: returnId, action: 'RETURN_RECEIVED' } }),
  ).toMatchObject({ actorId: admin.id, reason: 'one unit scratched' });
  const ledger = await stack.prisma.inventoryLedger.findMany({ where: { reference: returnId, type: 'RETURN' } });
  expect(ledger.map((l) => [l.quantity, l.actor])).toEqual([[1, admin.id]]);
  const again = await ops('returns', 'receive', returnId, '--line', `${product.id}:1:RESTOCK`);
  expect({ code: again.code, stderr: again.stderr }).toEqual({
    code: 2,
    stderr: expect.stringContaining('(INVALID_RETURN_STATE)'),
  });

  // A second order's return, declined from the command line.
  const other = await paidOrder(1, 900, { deliver: true });
  const declinedId = await askReturn(other.customer, other.orderId, other.product.id, 1);
  expect((await ops('returns', 'reject', declinedId)).code).toBe(2); // --reason is required
  expect(json(await ops('returns', 'reject', declinedId, '--reason', 'worn, tags removed'))).toMatchObject({
    status: 'REJECTED',
  });
  expect(
    await stack.prisma.auditLog.findFirst({ where: { targetId: declinedId, action: 'RETURN_REJECTED' } }),
  ).toMatchObject({ actorId: admin.id, reason: 'worn, tags removed' });
  await eventually(
    async () => mailsTo(stack, other.customer.email, `Return ${declinedId} declined`).length > 0,
    'declined email',
  );
  expect(json(await ops('returns', 'list', '--status', 'REJECTED')).returns).toEqual([
    expect.objectContaining({ returnId: declinedId, decidedBy: admin.id, decisionReason: 'worn, tags removed' }),
  ]);

  // The order's history shows the return's workflow and the admin's receipt.
  const history = await stack.http.get(`/admin/orders/${orderId}/history?pageSize=500`, admin.token);
  expect(history.body.workflows).toContain(`return-${returnId}`);
  expect(history.body.entries).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ workflowId: `return-${returnId}`, kind: 'STARTED', actor: `CUSTOMER:${customer.id}` }),
      expect.objectContaining({
        workflowId: `return-${returnId}`,
        kind: 'UPDATE',
        name: 'receiveReturn',
        actor: `ADMIN:${admin.id}`,
      }),
      expect.objectContaining({ workflowId: `refund-${refunded.refundId}`, kind: 'STARTED' }),
    ]),
  );
});

const now = () => Math.floor(Date.now() / 1000);
function disputeEvent(type: string, dispute: { id: string; paymentIntentId: string; status: string; dueBy: number }) {
  return {
    id: `evt_${randomBytes(12).toString('hex')}`,
    object: 'event',
    type,
    created: now(),
    data: {
      object: {
        id: dispute.id,
        object: 'dispute',
        amount: 2500,
        currency: 'usd',
        reason: 'product_not_received',
        status: dispute.status,
        charge: `ch_${randomBytes(8).toString('hex')}`,
        payment_intent: dispute.paymentIntentId,
        evidence_details: { due_by: dispute.dueBy },
      },
    },
  };
}

test('a dispute due within 48 h: on /metrics, alerted once, evidence by ops resolves it once; in the history', async () => {
  const metrics = () => scrape(`${stack.http.baseUrl}/metrics`);
  const before = await metrics();
  expect(sample(before, 'durable_commerce_disputes_open', { provider: 'STRIPE' })).toBe(0);
  expect(before).toMatch(/^durable_commerce_dispute_deadlines_within_48h 0$/m);

  const { orderId, paymentIntentId } = await paidOrder(1, 2500);
  // One dispute due in a day (within 48 h), one due in a week (open, but not yet pressing).
  const soon = {
    id: `dp_${randomBytes(8).toString('hex')}`,
    paymentIntentId,
    status: 'needs_response',
    dueBy: now() + 86_400,
  };
  expect((await deliverStripeEvent(stack, disputeEvent('charge.dispute.created', soon))).status).toBe(200);
  const later = await paidOrder(1, 2500);
  const week = {
    id: `dp_${randomBytes(8).toString('hex')}`,
    paymentIntentId: later.paymentIntentId,
    status: 'needs_response',
    dueBy: now() + 7 * 86_400,
  };
  expect((await deliverStripeEvent(stack, disputeEvent('charge.dispute.created', week))).status).toBe(200);
  const dispute = await eventually(
    () => stack.prisma.dispute.findFirst({ where: { providerDisputeId: soon.id } }),
    'soon',
  );
  await eventually(() => stack.prisma.dispute.findFirst({ where: { providerDisputeId: week.id } }), 'week');

  const open = await metrics();
  expect(sample(open, 'durable_commerce_disputes_open', { provider: 'STRIPE' })).toBe(2);
  expect(sample(open, 'durable_commerce_disputes_open', { provider: 'RAZORPAY' })).toBe(0);
  expect(sample(open, 'durable_commerce_dispute_deadlines_within_48h')).toBe(1);

  // The CLI's list and show, with filters (and the API's, the same operation).
  const listed = json(await ops('disputes', 'list', '--status', 'OPEN', '--provider', 'STRIPE'));
  expect(listed.disputes.map((d: { providerDisputeId: string }) => d.providerDisputeId)).toEqual([soon.id, week.id]);
  expect(json(await ops('disputes', 'list', '--provider', 'RAZORPAY')).disputes).toEqual([]);
  expect(json(await ops('disputes', 'list', '--order', orderId)).disputes).toHaveLength(1);
  const api = await stack.http.get(`/admin/disputes?status=OPEN&orderId=${later.orderId}`, admin.token);
  expect(api.body.disputes.map((d: { providerDisputeId: string }) => d.providerDisputeId)).toEqual([week.id]);
  expect(json(await ops('disputes', 'show', dispute!.id))).toMatchObject({
    disputeId: dispute!.id,
    orderId,
    status: 'OPEN',
    amount: 2500,
    reason: 'product_not_received',
    evidenceSubmittedAt: null,
  });

  // The alert Schedule opens the deadline alert once, with one email.
  const scheduleId = await ensureAlertSchedule(stack.temporal, stack.config);
  try {
    const alertsOf = async (status: string) =>
      ((await stack.http.get(`/admin/alerts?status=${status}`, admin.token)).body.alerts as { key: string }[]).filter(
        (a) => a.key === 'dispute_deadline_within_48h',
      );
    const [alert] = await eventually(async () => {
      const found = await alertsOf('open');
      return found.length > 0 && found;
    }, 'deadline alert open');
    expect(alert).toMatchObject({ opening: 1, severity: 'critical', value: 1 });
    const opened = () => mailsTo(stack, admin.email, 'Alert dispute_deadline_within_48h opened');
    await eventually(async () => opened().length > 0, 'opening email');

    const submitted = json(await ops('disputes', 'evidence', dispute!.id, '--note', 'carrier proof of delivery'));
    expect(submitted).toMatchObject({
      status: 'OPEN',
      evidenceSubmittedBy: admin.id,
      evidenceNote: 'carrier proof of delivery',
      evidence: { submittedToProvider: true },
    });
    expect(
      await stack.prisma.auditLog.findFirst({ where: { targetId: dispute!.id, action: 'DISPUTE_EVIDENCE_SUBMITTED' } }),
    ).toMatchObject({ actorId: admin.id, reason: 'carrier proof of delivery' });
    const twice = await ops('disputes', 'evidence', dispute!.id, '--note', 'again');
    expect({ code: twice.code, stderr: twice.stderr }).toEqual({
      code: 2,
      stderr: expect.stringContaining('(DISPUTE_CLOSED)'),
    });
    const after = await metrics();
    expect(sample(after, 'durable_commerce_dispute_deadlines_within_48h')).toBe(0);
    expect(sample(after, 'durable_commerce_disputes_open', { provider: 'STRIPE' })).toBe(2);

    await eventually(async () => (await alertsOf('resolved')).length > 0, 'deadline alert resolved');
    const resolved = () => mailsTo(stack, admin.email, 'Alert dispute_deadline_within_48h resolved');
    await eventually(async () => resolved().length > 0, 'resolution email');
    // Later evaluations open nothing again and send nothing more.
    const handle = stack.temporal.schedule.getHandle(scheduleId);
    const target = (await handle.describe()).info.numActionsTaken + 2;
    await eventually(async () => (await handle.describe()).info.numActionsTaken >= target, '2 more evaluations');
    expect(opened()).toHaveLength(1);
    expect(resolved()).toHaveLength(1);
    expect(await alertsOf('open')).toEqual([]);
    expect(await stack.prisma.alert.count({ where: { key: 'dispute_deadline_within_48h' } })).toBe(1);
  } finally {
    await stack.temporal.schedule.getHandle(scheduleId).delete();
  }

  const history = await stack.http.get(`/admin/orders/${orderId}/history?pageSize=500`, admin.token);
  const workflowId = `dispute-stripe-${soon.id}`;
  expect(history.body.workflows).toContain(workflowId);
  expect(history.body.entries).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ workflowId, kind: 'STARTED', name: 'disputeWorkflow', actor: 'PROVIDER:STRIPE' }),
      expect.objectContaining({ workflowId, kind: 'UPDATE', name: 'submitEvidence', actor: `ADMIN:${admin.id}` }),
    ]),
  );
});
