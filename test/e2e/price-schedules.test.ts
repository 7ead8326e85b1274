/**
 * Scheduled price changes over HTTP (issue 15 point 7): workflow price-schedule-<id> applies the
 * new prices at the start and restores them at the end, each step audited on the product; an
 * order placed before a sale and paid during it is charged the price it was placed at; an admin
 * cancels before the start (nothing changes) or during the sale (restored at once); bad input and
 * overlapping schedules are refused with nothing recorded; the CLI runs the same operations; and
 * timers that fire late (a worker down at a boundary) cannot tangle two changes.
 */
import { randomUUID } from 'node:crypto';
import { requestPriceSchedule } from '../../src/inventory/price-schedules';
import { applyPriceSchedule, endPriceSchedule } from '../../src/inventory/price-schedule-steps';
import { schedulePriceChange } from '../../src/inventory/price-schedule-runs';
import { createProduct, createUser, eventually, orderOf, runOps, untilOrder, useStack } from '../helpers/stack';
import { deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';

const { stack, admin } = useStack({ env: { RESERVATION_TTL: '30m' } });

const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
const priceOf = async (id: string) => (await stack.prisma.product.findUniqueOrThrow({ where: { id } })).price;
const schedule = (body: object, token = admin.token) => stack.http.post('/admin/price-schedules', body, token);

async function untilSchedule(scheduleId: string, status: string) {
  return eventually(async () => {
    const { body } = await stack.http.get(`/admin/price-schedules/${scheduleId}`, admin.token);
    return body.status === status && body;
  }, `schedule ${scheduleId} ${status}`);
}

async function productAudit(productId: string) {
  const { body } = await stack.http.get(`/admin/audit?targetId=${productId}`, admin.token);
  return (body.entries as { action: string; actorId: string; reason: string; createdAt: string }[]).reverse();
}

test('a sale applies at its start and restores at its end, for products and variants, each step on the product audit', async () => {
  const plain = await createProduct(stack, admin, { stock: 10, price: 2500 });
  const sized = await stack.http.post(
    '/admin/products',
    {
      sku: `TEE-${randomUUID().slice(0, 8)}`,
      name: 'Tee',
      price: 1800,
      currency: 'USD',
      stock: 0,
      variants: [{ sku: `TEE-L-${randomUUID().slice(0, 8)}`, name: 'L', price: 2000, stock: 5 }],
    },
    admin.token,
  );
  const variant = sized.body.variants[0];
  const startsAt = inMs(2_000);
  const endsAt = inMs(6_000);
  const created = await schedule({
    lines: [
      { productId: plain.id, price: 1999 },
      { productId: sized.body.id, variantId: variant.id, price: 1500 },
    ],
    startsAt,
    endsAt,
    reason: 'Weekend sale',
    reference: 'CAMPAIGN-7',
  });
  expect(created.status).toBe(202);
  const { scheduleId, workflowId } = created.body;
  expect(created.body).toMatchObject({
    status: 'SCHEDULED',
    workflowId: `price-schedule-${scheduleId}`,
    startsAt,
    endsAt,
  });

  const ended = await untilSchedule(scheduleId, 'COMPLETED');
  expect(ended.lines).toEqual([
    expect.objectContaining({ productId: plain.id, sku: plain.sku, currency: 'USD', price: 1999, previousPrice: 2500 }),
    expect.objectContaining({ variantId: variant.id, sku: variant.sku, price: 1500, previousPrice: 2000 }),
  ]);
  expect(ended.lines.map((l: { outcome: string }) => l.outcome)).toEqual(['RESTORED', 'RESTORED']);
  expect(await priceOf(plain.id)).toBe(2500);
  expect((await stack.http.get(`/api/products/${sized.body.id}`)).body.variants[0].price).toBe(2000);

  // Applied no earlier than its start, restored no earlier than its end, by the workflow (system).
  expect(Date.parse(ended.appliedAt)).toBeGreaterThanOrEqual(Date.parse(startsAt));
  expect(Date.parse(ended.endedAt)).toBeGreaterThanOrEqual(Date.parse(endsAt));
  const audit = await productAudit(plain.id);
  expect(audit.map((e) => [e.action, e.actorId])).toEqual([
    ['PRODUCT_CREATED', admin.id],
    ['PRICE_CHANGE_SCHEDULED', admin.id],
    ['PRICE_CHANGED', 'system'],
    ['PRICE_RESTORED', 'system'],
  ]);
  expect(audit.slice(1).every((e) => e.reason === 'Weekend sale')).toBe(true);
  const history = await stack.temporal.workflow.getHandle(workflowId).result();
  expect(history).toBe('COMPLETED');
  const listed = await stack.http.get(`/admin/price-schedules?productId=${plain.id}`, admin.token);
  expect(listed.body.schedules.map((s: { scheduleId: string }) => s.scheduleId)).toEqual([scheduleId]);
});

test('an order placed before a sale and paid during it is charged the price it was placed at; cancelling the sale restores the price at once', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 10, price: 2500 });
  const placed = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 2 }], paymentMethod: 'card' },
    customer.token,
  );
  expect(placed.body.totalAmount).toBe(5000);
  const orderId: string = placed.body.orderId;

  const created = await schedule({
    lines: [{ productId: product.id, price: 1500 }],
    startsAt: inMs(1_000),
    endsAt: inMs(3_600_000),
    reason: 'Clearance',
  });
  expect(created.status).toBe(202);
  const { scheduleId } = created.body;
  await untilSchedule(scheduleId, 'ACTIVE');
  expect((await stack.http.get(`/api/products/${product.id}`)).body.price).toBe(1500);
  // A new order during the sale gets the sale price.
  const during = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 2 }], paymentMethod: 'card' },
    customer.token,
  );
  expect(during.body.totalAmount).toBe(3000);

  // The first order is paid now, during the sale, for what it was placed at.
  const pending = await orderOf(stack, orderId, customer.token);
  const paid = await deliverStripeEvent(
    stack,
    paymentIntentEvent('payment_intent.succeeded', {
      id: pending.paymentIntentId,
      orderId,
      amount: 5000,
      currency: 'usd',
    }),
  );
  expect(paid.status).toBe(200);
  const confirmed = await untilOrder(stack, orderId, customer.token, (o) => o.status === 'CONFIRMED', 'confirmed');
  expect(confirmed).toMatchObject({ totalAmount: 5000, paymentStatus: 'PAID' });
  expect(confirmed.payments).toEqual([expect.objectContaining({ amount: 5000, status: 'SUCCEEDED' })]);
  const items = await stack.prisma.orderItem.findMany({ where: { orderId } });
  expect(items.map((i) => i.unitPrice)).toEqual([2500]);

  const cancelled = await stack.http.post(
    `/admin/price-schedules/${scheduleId}/cancel`,
    { reason: 'Sold out at the supplier' },
    admin.token,
  );
  expect(cancelled.status).toBe(200);
  expect(cancelled.body).toMatchObject({ status: 'CANCELLED', cancelledBy: admin.id });
  expect(cancelled.body.lines[0]).toMatchObject({ outcome: 'RESTORED', restoredPrice: 2500 });
  expect(await priceOf(product.id)).toBe(2500);
  const audit = await productAudit(product.id);
  expect(audit.at(-1)).toMatchObject({
    action: 'PRICE_RESTORED',
    actorId: admin.id,
    reason: 'Sold out at the supplier',
  });

  const again = await stack.http.post(`/admin/price-schedules/${scheduleId}/cancel`, { reason: 'again' }, admin.token);
  expect(again.status).toBe(409);
  expect(again.body.error.code).toBe('INVALID_PRICE_SCHEDULE_STATE');
});

test('a cancel before the start changes nothing and closes the workflow', async () => {
  const product = await createProduct(stack, admin, { stock: 10, price: 2500 });
  const created = await schedule({
    lines: [{ productId: product.id, price: 999 }],
    startsAt: inMs(3_600_000),
    reason: 'New price list',
  });
  const { scheduleId, workflowId } = created.body;
  const missing = await stack.http.post(`/admin/price-schedules/${scheduleId}/cancel`, {}, admin.token);
  expect(missing.status).toBe(400);
  const cancelled = await stack.http.post(
    `/admin/price-schedules/${scheduleId}/cancel`,
    { reason: 'Price list withdrawn' },
    admin.token,
  );
  expect(cancelled.status).toBe(200);
  expect(cancelled.body).toMatchObject({ status: 'CANCELLED', appliedAt: null, cancelReason: 'Price list withdrawn' });
  expect(cancelled.body.lines[0]).toMatchObject({ appliedAt: null, previousPrice: null, outcome: null });
  expect(await priceOf(product.id)).toBe(2500);
  expect(await stack.temporal.workflow.getHandle(workflowId).result()).toBe('CANCELLED');
  const audit = await stack.prisma.auditLog.findMany({
    where: { targetId: scheduleId },
    orderBy: { createdAt: 'asc' },
  });
  expect(audit.map((e) => [e.action, e.actorId])).toEqual([
    ['PRICE_SCHEDULE_CREATED', admin.id],
    ['PRICE_SCHEDULE_CANCELLED', admin.id],
  ]);
  expect((await productAudit(product.id)).map((e) => e.action)).toEqual([
    'PRODUCT_CREATED',
    'PRICE_CHANGE_SCHEDULED',
    'PRICE_CHANGE_CANCELLED',
  ]);
});

test('bad input and overlapping schedules are refused with 4xx codes and nothing recorded', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 10, price: 2500 });
  const line = { productId: product.id, price: 1000 };
  const base = { lines: [line], startsAt: inMs(3_600_000), endsAt: inMs(7_200_000), reason: 'Sale' };
  const refusals: [object, number, string][] = [
    [{ ...base, endsAt: inMs(1_800_000) }, 400, 'VALIDATION_ERROR'], // ends before it starts
    [{ ...base, startsAt: inMs(-600_000) }, 400, 'VALIDATION_ERROR'], // starts 10 minutes ago
    [{ ...base, lines: [{ ...line, price: -1 }] }, 400, 'VALIDATION_ERROR'],
    [{ ...base, lines: [{ ...line, price: 10.5 }] }, 400, 'VALIDATION_ERROR'],
    [{ ...base, lines: [line, line] }, 400, 'VALIDATION_ERROR'],
    [{ ...base, startsAt: 'tomorrow' }, 400, 'VALIDATION_ERROR'],
    [{ ...base, reason: ' ' }, 400, 'VALIDATION_ERROR'],
    [{ ...base, lines: [{ ...line, productId: randomUUID() }] }, 404, 'PRODUCT_NOT_FOUND'],
    [{ ...base, lines: [{ ...line, variantId: randomUUID() }] }, 404, 'VARIANT_NOT_FOUND'],
  ];
  for (const [body, status, code] of refusals) {
    const refused = await schedule(body);
    expect([JSON.stringify(body), refused.status, refused.body.error?.code]).toEqual([
      JSON.stringify(body),
      status,
      code,
    ]);
  }
  expect((await schedule(base, customer.token)).status).toBe(403);
  expect(await stack.prisma.priceScheduleLine.count({ where: { productId: product.id } })).toBe(0);

  // One schedule holds the product from its start to its end: a second that meets it is refused.
  const first = await schedule(base);
  expect(first.status).toBe(202);
  const overlapping = await schedule({ ...base, startsAt: inMs(5_400_000), endsAt: inMs(9_000_000) });
  expect(overlapping.status).toBe(409);
  expect(overlapping.body.error).toMatchObject({
    code: 'PRICE_SCHEDULE_OVERLAP',
    details: { conflicts: [expect.objectContaining({ scheduleId: first.body.scheduleId, productId: product.id })] },
  });
  const forGoodInside = await schedule({ ...base, startsAt: inMs(5_400_000), endsAt: undefined });
  expect(forGoodInside.body.error?.code).toBe('PRICE_SCHEDULE_OVERLAP');
  // Back to back is fine: the next sale starts where the first ends.
  const next = await schedule({ ...base, startsAt: base.endsAt, endsAt: inMs(10_800_000) });
  expect(next.status).toBe(202);
  expect(await stack.prisma.priceSchedule.count({ where: { lines: { some: { productId: product.id } } } })).toBe(2);
  expect(await priceOf(product.id)).toBe(2500);

  const unknown = await stack.http.get(`/admin/price-schedules/${randomUUID()}`, admin.token);
  expect([unknown.status, unknown.body.error.code]).toEqual([404, 'PRICE_SCHEDULE_NOT_FOUND']);
  for (const { scheduleId } of [first.body, next.body])
    await stack.http.post(`/admin/price-schedules/${scheduleId}/cancel`, { reason: 'test done' }, admin.token);
});

test('the CLI schedules, lists, shows and cancels through the same operations, as the acting admin', async () => {
  const product = await createProduct(stack, admin, { stock: 10, price: 2500 });
  const scheduled = await runOps(
    stack,
    admin.email,
    'prices',
    'schedule',
    '--set',
    `${product.id}=1999`,
    '--starts-at',
    inMs(3_600_000),
    '--ends-at',
    inMs(7_200_000),
    '--reason',
    'Flash sale',
  );
  expect(scheduled.code).toBe(0);
  const { scheduleId, status } = JSON.parse(scheduled.stdout);
  expect(status).toBe('SCHEDULED');
  const listed = await runOps(stack, admin.email, 'prices', 'list', '--product', product.id);
  expect(JSON.parse(listed.stdout).schedules.map((s: { scheduleId: string }) => s.scheduleId)).toEqual([scheduleId]);
  const shown = await runOps(stack, admin.email, 'prices', 'show', scheduleId);
  expect(JSON.parse(shown.stdout).lines).toEqual([expect.objectContaining({ productId: product.id, price: 1999 })]);
  const overlap = await runOps(
    stack,
    admin.email,
    'prices',
    'schedule',
    '--set',
    `${product.id}=1500`,
    '--starts-at',
    inMs(5_400_000),
    '--reason',
    'Clash',
  );
  expect(overlap.code).toBe(2);
  expect(overlap.stderr).toContain('Another price schedule holds these products');
  const cancelled = await runOps(stack, admin.email, 'prices', 'cancel', scheduleId, '--reason', 'Dropped');
  expect(cancelled.code).toBe(0);
  expect(JSON.parse(cancelled.stdout)).toMatchObject({ status: 'CANCELLED', cancelledBy: admin.id });
  const created = await stack.prisma.auditLog.findFirstOrThrow({
    where: { targetId: scheduleId, action: 'PRICE_SCHEDULE_CREATED' },
  });
  expect(created).toMatchObject({ actorId: admin.id, reason: 'Flash sale' });
});

test('timers that fire late cannot tangle two changes: the next sale takes over a restore not yet run, a passed window is missed', async () => {
  // The steps as the workflows run them, in the order a worker back from an outage could run them.
  const product = await createProduct(stack, admin, { stock: 10, price: 2500 });
  const at = (ms: number) => new Date(Date.now() + ms);
  const request = async (price: number, from: number, to?: number, productId = product.id) => {
    const scheduleId = randomUUID();
    // One instant for both: the request is made exactly at its start, as its timer would fire.
    const startsAt = at(from);
    await requestPriceSchedule(
      stack.prisma,
      scheduleId,
      {
        lines: [{ productId, price }],
        startsAt: startsAt.toISOString(),
        endsAt: to === undefined ? undefined : at(to).toISOString(),
        reason: 'late',
      },
      admin.id,
      { now: startsAt, startToleranceMs: 0 },
    );
    return { scheduleId, workflowId: `price-schedule-${scheduleId}` };
  };
  const first = await request(2000, 3_600_000, 7_200_000);
  const second = await request(1500, 7_200_000, 10_800_000);
  await applyPriceSchedule(stack.prisma, first);
  // The second sale starts before the first one's end has run: it takes over the restore to 2500.
  await applyPriceSchedule(stack.prisma, second);
  expect(await priceOf(product.id)).toBe(1500);
  expect(await endPriceSchedule(stack.prisma, first)).toEqual({ status: 'COMPLETED' });
  expect(await priceOf(product.id)).toBe(1500);
  expect(await endPriceSchedule(stack.prisma, second)).toEqual({ status: 'COMPLETED' });
  expect(await priceOf(product.id)).toBe(2500);
  const outcomes = await stack.prisma.priceScheduleLine.findMany({
    where: { productId: product.id },
    orderBy: { price: 'desc' },
  });
  expect(outcomes.map((l) => [l.price, l.previousPrice, l.outcome])).toEqual([
    [2000, 2500, 'HANDED_OVER'],
    [1500, 2500, 'RESTORED'],
  ]);
  // Applying again (a retried activity) changes nothing.
  expect(await applyPriceSchedule(stack.prisma, second)).toEqual({ status: 'COMPLETED' });

  // A sale whose whole window passed before its start could run is missed, not flashed on.
  const missed = await request(1000, -7_200_000, -3_600_000);
  expect(await applyPriceSchedule(stack.prisma, missed)).toEqual({ status: 'MISSED' });
  expect(await priceOf(product.id)).toBe(2500);

  // A change for good that runs after the next sale applied: that sale restores to it.
  const other = await createProduct(stack, admin, { stock: 10, price: 2500 });
  const forGood = await request(1800, 3_600_000, undefined, other.id);
  const sale = await request(1200, 7_200_000, 10_800_000, other.id);
  await applyPriceSchedule(stack.prisma, sale);
  expect(await applyPriceSchedule(stack.prisma, forGood)).toEqual({ status: 'COMPLETED' });
  expect(await priceOf(other.id)).toBe(1200);
  await endPriceSchedule(stack.prisma, sale);
  expect(await priceOf(other.id)).toBe(1800);
});

test('a schedule whose workflow cannot be started is NOT_STARTED: it changes nothing and holds nothing', async () => {
  const product = await createProduct(stack, admin, { stock: 10, price: 2500 });
  const body = {
    lines: [{ productId: product.id, price: 1000 }],
    startsAt: inMs(3_600_000),
    endsAt: inMs(7_200_000),
    reason: 'Sale',
  };
  // Temporal itself refuses the start (a task queue it cannot take), as it would be unreachable.
  const refusing = { ...stack, config: { ...stack.config, TEMPORAL_TASK_QUEUE: '' } };
  await expect(schedulePriceChange(refusing, body, { id: admin.id, role: 'ADMIN' })).rejects.toThrow(/task ?queue/i);
  const stranded = await stack.prisma.priceSchedule.findFirstOrThrow({
    where: { lines: { some: { productId: product.id } } },
  });
  expect(stranded.status).toBe('NOT_STARTED');
  const again = await schedule(body);
  expect(again.status).toBe(202);
  await stack.http.post(`/admin/price-schedules/${again.body.scheduleId}/cancel`, { reason: 'test done' }, admin.token);
  expect(await priceOf(product.id)).toBe(2500);
});
