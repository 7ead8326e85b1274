/**
 * Rotating what Stripe and Razorpay issue (webhook signing secrets, API keys) through the key
 * rotation workflow and the admin API: the admin pastes the new value from the provider's
 * dashboard, confirms the manual steps, the workflow verifies the key against the provider
 * (stripe-mock, the Razorpay sandbox), promotes it, accepts the old one for the grace period,
 * then retires it. A key the provider refuses is rolled back and the old one stays active.
 * The keyring is database-wide, so this file has a database of its own.
 */
import { randomBytes } from 'node:crypto';
import { signRazorpayWebhook } from '../../scripts/lib/razorpay-sandbox';
import { confirmManualStepSignal, type KeyRotationView } from '../../src/workflows/key-rotation/messages';
import { startHoldingProxy } from '../helpers/holding-proxy';
import {
  createProduct,
  createUser,
  eventually,
  orderOf,
  runOps,
  runOpsWithInput,
  storedHistoryText,
  untilOrder,
  useStack,
  type TestUser,
} from '../helpers/stack';
import { deliverRazorpayWebhook, deliverStripeEvent, paymentIntentEvent } from '../helpers/webhooks';

const GRACE = '5s';
let stripeProxy: Awaited<ReturnType<typeof startHoldingProxy>>;
beforeAll(async () => {
  // Between the app and stripe-mock: shows which API key each Stripe call carried.
  stripeProxy = await startHoldingProxy(process.env.STRIPE_API_BASE!);
});
const { stack, admin } = useStack(() => ({
  isolatedDatabase: true,
  env: { KEY_ROTATION_GRACE: GRACE, STRIPE_API_BASE: stripeProxy.url, JWT_TTL: '1h' },
}));
afterAll(() => stripeProxy.close()); // after the stack stops

async function startRotation(purpose: string): Promise<string> {
  const started = await stack.http.post(
    '/admin/keys/rotate',
    { purpose, reason: `rotating ${purpose} after a staff change` },
    admin.token,
  );
  expect(started.status).toBe(202);
  return started.body.workflowId;
}
const viewOf = async (workflowId: string): Promise<KeyRotationView> =>
  (await stack.http.get(`/admin/keys/rotations/${workflowId}`, admin.token)).body;
const untilStep = (workflowId: string, step: KeyRotationView['step']) =>
  eventually(async () => {
    const view = await viewOf(workflowId);
    return view.step === step && view;
  }, `rotation ${step}`);
const keysOf = async (purpose: string) =>
  (
    (await stack.http.get(`/admin/keys?purpose=${purpose}`, admin.token)).body.keys as { kid: string; status: string }[]
  ).map((k) => [k.kid, k.status]);
const auditTrail = async (workflowId: string) =>
  (
    (await stack.http.get(`/admin/audit?targetId=${workflowId}`, admin.token)).body.entries as {
      action: string;
      actorId: string;
      reason?: string;
      after?: Record<string, unknown>;
    }[]
  ).reverse();

async function placeCardOrder(customer: TestUser, provider: 'stripe' | 'razorpay' = 'stripe') {
  const product = await createProduct(stack, admin, {
    stock: 5,
    price: 2500,
    currency: provider === 'razorpay' ? 'INR' : 'USD',
  });
  const checkout = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card', provider },
    customer.token,
  );
  expect(checkout.status).toBe(201);
  return checkout.body as { orderId: string; razorpayKeyId?: string; razorpayOrderId?: string };
}

/** A new card order, and a way to pay it: Stripe's `payment_intent.succeeded`, signed with `secret`. */
async function unpaidOrder(customer: TestUser) {
  const { orderId } = await placeCardOrder(customer);
  const { paymentIntentId } = await orderOf(stack, orderId, customer.token);
  const event = paymentIntentEvent('payment_intent.succeeded', {
    id: paymentIntentId,
    orderId,
    amount: 2500,
    currency: 'usd',
  });
  const pay = (secret: string) => deliverStripeEvent(stack, event, { secret });
  /** As Stripe delivers while a rolled secret has not expired: one `v1` signature per secret. */
  const payWithBoth = (secrets: string[]) => {
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = secrets.map((secret) =>
      stack.stripe.webhooks.generateTestHeaderString({ payload: JSON.stringify(event), secret, timestamp }),
    );
    return deliverStripeEvent(stack, event, {
      signature: [headers[0], ...headers.slice(1).map((h) => h.split(',')[1])].join(','),
    });
  };
  return { orderId, pay, payWithBoth };
}
async function payWithSignature(customer: TestUser, secret: string) {
  const { orderId, pay } = await unpaidOrder(customer);
  return { orderId, answer: await pay(secret) };
}

test('Stripe webhook secret: old and new signatures accepted during the grace, only the new one after', async () => {
  const customer = await createUser(stack);
  const oldSecret = stack.config.STRIPE_WEBHOOK_SECRET;
  const newSecret = `whsec_${randomBytes(24).toString('hex')}`;
  expect((await payWithSignature(customer, oldSecret)).answer.status).toBe(200); // the keyring starts from the configured secret

  const workflowId = await startRotation('STRIPE_WEBHOOK_SECRET');
  const waiting = await untilStep(workflowId, 'AWAITING_SECRET');
  expect(waiting.manualSteps).toEqual([
    expect.objectContaining({
      id: 'old-secret-expiry',
      phase: 'BEFORE_VERIFY',
      instruction: expect.stringContaining('roll the signing secret'),
    }),
  ]);

  const supplied = await stack.http.post(
    `/admin/keys/rotations/${workflowId}/secret`,
    { secret: newSecret },
    admin.token,
  );
  expect(supplied.status).toBe(200);
  expect(supplied.body.newKid).toBe('stripe-webhook-secret-2');
  await untilStep(workflowId, 'AWAITING_MANUAL_STEPS');
  // Staged is not trusted: until it is verified and promoted, the new secret signs nothing we accept.
  expect((await payWithSignature(customer, newSecret)).answer.status).toBe(400);
  // A second value for the same rotation is refused and changes nothing.
  const again = await stack.http.post(
    `/admin/keys/rotations/${workflowId}/secret`,
    { secret: `whsec_${randomBytes(8).toString('hex')}` },
    admin.token,
  );
  expect({ status: again.status, code: again.body.error.code }).toEqual({
    status: 409,
    code: 'INVALID_ROTATION_STATE',
  });

  // Orders placed now, paid during the grace (which is short here): only the deliveries are timed.
  const [byOld, byNew, byBoth] = await Promise.all([
    unpaidOrder(customer),
    unpaidOrder(customer),
    unpaidOrder(customer),
  ]);
  const confirmed = await stack.http.post(
    `/admin/keys/rotations/${workflowId}/steps/old-secret-expiry/confirm`,
    { note: 'rolled in the dashboard, old expires in 24h' },
    admin.token,
  );
  expect(confirmed.status).toBe(200);
  expect(confirmed.body.manualSteps[0]).toMatchObject({ confirmedBy: admin.id });
  const grace = await untilStep(workflowId, 'GRACE');
  expect(grace).toMatchObject({ newKid: 'stripe-webhook-secret-2', oldKid: 'stripe-webhook-secret-1' });
  expect(await keysOf('STRIPE_WEBHOOK_SECRET')).toEqual([
    ['stripe-webhook-secret-1', 'RETIRING'],
    ['stripe-webhook-secret-2', 'ACTIVE'],
  ]);

  // During the grace: Stripe signs with both secrets; either alone is enough.
  const answers = await Promise.all([
    byOld.pay(oldSecret),
    byNew.pay(newSecret),
    byBoth.payWithBoth([oldSecret, newSecret]),
  ]);
  expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
  await untilOrder(stack, byOld.orderId, customer.token, (o) => o.status === 'CONFIRMED', 'paid under the old secret');
  await untilOrder(stack, byNew.orderId, customer.token, (o) => o.status === 'CONFIRMED', 'paid under the new secret');
  await untilOrder(stack, byBoth.orderId, customer.token, (o) => o.status === 'CONFIRMED', 'paid under both secrets');

  // After the grace: only the new secret.
  const done = await stack.temporal.workflow.getHandle(workflowId).result();
  expect(done.step).toBe('DONE');
  // Stripe's header still carries the expired secret's signature beside the new one: the new one counts.
  const both = await unpaidOrder(customer);
  expect((await both.payWithBoth([oldSecret, newSecret])).status).toBe(200);
  const late = await payWithSignature(customer, oldSecret);
  expect({ status: late.answer.status, code: late.answer.body.error.code }).toEqual({
    status: 400,
    code: 'INVALID_SIGNATURE',
  });
  expect((await orderOf(stack, late.orderId, customer.token)).status).toBe('PENDING');
  expect((await payWithSignature(customer, newSecret)).answer.status).toBe(200);
  expect(await keysOf('STRIPE_WEBHOOK_SECRET')).toEqual([
    ['stripe-webhook-secret-1', 'RETIRED'],
    ['stripe-webhook-secret-2', 'ACTIVE'],
  ]);

  const trail = await auditTrail(workflowId);
  expect(trail.map((e) => [e.action, e.actorId])).toEqual([
    ['KEY_ROTATION_STARTED', admin.id],
    ['KEY_SUPPLIED', admin.id],
    ['KEY_MANUAL_STEP_CONFIRMED', admin.id],
    ['KEY_VERIFIED', admin.id],
    ['KEY_PROMOTED', admin.id],
    ['KEY_RETIRED', admin.id],
  ]);
  expect(JSON.stringify(trail)).not.toContain(newSecret);
  const history = await storedHistoryText(stack, workflowId);
  expect(history).toContain(workflowId);
  expect(history).not.toContain(newSecret);
});

test('Razorpay webhook secret: both accepted until the admin confirms the dashboard switch, then for the grace', async () => {
  const oldSecret = stack.config.RAZORPAY_WEBHOOK_SECRET;
  const newSecret = randomBytes(24).toString('hex');
  const workflowId = await startRotation('RAZORPAY_WEBHOOK_SECRET');
  expect(
    (await stack.http.post(`/admin/keys/rotations/${workflowId}/secret`, { secret: newSecret }, admin.token)).status,
  ).toBe(200);

  // Razorpay signs with one secret at a time, so the new one is accepted before the dashboard changes.
  const switching = await untilStep(workflowId, 'AWAITING_PROVIDER_SWITCH');
  expect(switching.manualSteps).toEqual([
    expect.objectContaining({ id: 'dashboard-secret-updated', phase: 'AFTER_PROMOTE' }),
  ]);
  expect(switching.oldKeyAcceptedUntil).toBeUndefined(); // held open until the switch
  const hook = (secret: string) => {
    const body = JSON.stringify({
      entity: 'event',
      event: 'account.updated',
      payload: {},
      created_at: Math.floor(Date.now() / 1000),
    });
    return deliverRazorpayWebhook(
      stack,
      { eventId: `evt_${randomBytes(8).toString('hex')}`, body },
      { signature: signRazorpayWebhook(body, secret) },
    );
  };
  // An event about no payment: accepted (signature and all) and stored, nothing more.
  expect((await hook(oldSecret)).status).toBe(200);
  expect((await hook(newSecret)).status).toBe(200);

  expect(
    (
      await stack.http.post(
        `/admin/keys/rotations/${workflowId}/steps/dashboard-secret-updated/confirm`,
        {},
        admin.token,
      )
    ).status,
  ).toBe(200);
  const grace = await untilStep(workflowId, 'GRACE');
  expect(new Date(grace.oldKeyAcceptedUntil!).getTime()).toBeGreaterThan(Date.now());
  expect((await hook(oldSecret)).status).toBe(200);

  expect((await stack.temporal.workflow.getHandle(workflowId).result()).step).toBe('DONE');
  expect((await hook(oldSecret)).body.error.code).toBe('INVALID_SIGNATURE');
  expect((await hook(newSecret)).status).toBe(200);
});

test('Stripe API key refused by Stripe: rolled back, the old key stays active, audited', async () => {
  const customer = await createUser(stack);
  const workflowId = await startRotation('STRIPE_API_KEY');
  // Well-formed, but stripe-mock (like Stripe in test mode) refuses live keys.
  const refusedKey = `sk_live_${randomBytes(12).toString('hex')}`;
  expect(
    (await stack.http.post(`/admin/keys/rotations/${workflowId}/secret`, { secret: refusedKey }, admin.token)).status,
  ).toBe(200);
  expect(
    (
      await stack.http.post(
        `/admin/keys/rotations/${workflowId}/steps/old-key-expiry/confirm`,
        { note: 'rolled' },
        admin.token,
      )
    ).status,
  ).toBe(200);

  const result = await stack.temporal.workflow.getHandle(workflowId).result();
  expect(result).toMatchObject({
    step: 'ROLLED_BACK',
    newKid: 'stripe-api-key-2',
    failure: expect.stringContaining('refused'),
  });
  expect(await keysOf('STRIPE_API_KEY')).toEqual([
    ['stripe-api-key-1', 'ACTIVE'],
    ['stripe-api-key-2', 'RETIRED'],
  ]);
  // Payments go on under the old key.
  const before = stripeProxy.apiKeys.length;
  await placeCardOrder(customer);
  expect(stripeProxy.apiKeys.slice(before)).toContain(stack.config.STRIPE_SECRET_KEY);
  expect(stripeProxy.apiKeys.slice(before)).not.toContain(refusedKey);

  const trail = await auditTrail(workflowId);
  expect(trail.map((e) => e.action)).toEqual([
    'KEY_ROTATION_STARTED',
    'KEY_SUPPLIED',
    'KEY_MANUAL_STEP_CONFIRMED',
    'KEY_ROTATION_ROLLED_BACK',
  ]);
  expect(trail.at(-1)).toMatchObject({
    actorId: 'system',
    after: { kid: 'stripe-api-key-2', failure: expect.stringContaining('refused') },
  });
  expect(JSON.stringify(trail)).not.toContain(refusedKey);
});

test('Stripe API key accepted (its step confirmed from the Web UI by email): new calls carry the new key from its promotion on', async () => {
  const customer = await createUser(stack);
  const newKey = `sk_test_${randomBytes(12).toString('hex')}`;
  const workflowId = await startRotation('STRIPE_API_KEY');
  await stack.http.post(`/admin/keys/rotations/${workflowId}/secret`, { secret: newKey }, admin.token);
  await untilStep(workflowId, 'AWAITING_MANUAL_STEPS');
  // "Send a Signal" in the Web UI (encoded by the codec): first a suspended admin, then an active
  // one naming themself by email. Signals are taken in order: only the second confirms.
  const suspended = await createUser(stack, 'ADMIN');
  await stack.prisma.user.update({ where: { id: suspended.id }, data: { status: 'SUSPENDED' } });
  const handle = stack.temporal.workflow.getHandle(workflowId);
  await handle.signal(confirmManualStepSignal, { stepId: 'old-key-expiry', adminId: suspended.email, note: 'me' });
  await handle.signal(confirmManualStepSignal, {
    stepId: 'old-key-expiry',
    adminId: admin.email.toUpperCase(),
    note: 'rolled, old key expires in 24h',
  });
  const grace = await untilStep(workflowId, 'GRACE');
  expect(grace.manualSteps).toEqual([
    expect.objectContaining({ id: 'old-key-expiry', confirmedBy: admin.id, note: 'rolled, old key expires in 24h' }),
  ]);
  const confirmations = (await auditTrail(workflowId)).filter((e) => e.action === 'KEY_MANUAL_STEP_CONFIRMED');
  expect(confirmations).toEqual([
    expect.objectContaining({
      actorId: admin.id,
      after: {
        stepId: 'old-key-expiry',
        note: 'rolled, old key expires in 24h',
        via: 'temporal-signal',
        named: admin.email.toUpperCase(),
      },
    }),
  ]);

  const before = stripeProxy.apiKeys.length;
  await placeCardOrder(customer);
  expect(stripeProxy.forwarded.slice(before)).toContain('POST /v1/payment_intents');
  expect(new Set(stripeProxy.apiKeys.slice(before))).toEqual(new Set([newKey]));
  expect((await stack.temporal.workflow.getHandle(workflowId).result()).step).toBe('DONE');
});

test('Razorpay key: verified against Razorpay, then checkouts hand out the new key id; an unknown key is rolled back', async () => {
  const customer = await createUser(stack);
  // A key Razorpay never issued is refused.
  const unknown = await startRotation('RAZORPAY_KEY');
  await stack.http.post(
    `/admin/keys/rotations/${unknown}/secret`,
    { keyId: 'rzp_test_Unknown', keySecret: 'not-issued' },
    admin.token,
  );
  await stack.http.post(`/admin/keys/rotations/${unknown}/steps/old-key-kept/confirm`, {}, admin.token);
  expect((await stack.temporal.workflow.getHandle(unknown).result()).step).toBe('ROLLED_BACK');
  expect((await placeCardOrder(customer, 'razorpay')).razorpayKeyId).toBe(stack.config.RAZORPAY_KEY_ID);

  // The admin generates a key pair in the dashboard (the sandbox's equivalent) and pastes it.
  stack.razorpay.addKey('rzp_test_Rotated', 'rotated-secret');
  const workflowId = await startRotation('RAZORPAY_KEY');
  const wrongShape = await stack.http.post(
    `/admin/keys/rotations/${workflowId}/secret`,
    { secret: 'only-one-part' },
    admin.token,
  );
  expect({ status: wrongShape.status, code: wrongShape.body.error.code }).toEqual({
    status: 400,
    code: 'VALIDATION_ERROR',
  });
  await stack.http.post(
    `/admin/keys/rotations/${workflowId}/secret`,
    { keyId: 'rzp_test_Rotated', keySecret: 'rotated-secret' },
    admin.token,
  );
  await stack.http.post(`/admin/keys/rotations/${workflowId}/steps/old-key-kept/confirm`, {}, admin.token);
  await untilStep(workflowId, 'GRACE');
  const order = await placeCardOrder(customer, 'razorpay');
  expect(order).toMatchObject({ razorpayKeyId: 'rzp_test_Rotated', razorpayOrderId: expect.stringMatching(/^order_/) });
});

test('bad requests are 4xx and change nothing', async () => {
  const workflowId = await startRotation('STRIPE_WEBHOOK_SECRET');
  const cases = [
    [
      await stack.http.post(`/admin/keys/rotations/${workflowId}/secret`, { secret: 'has spaces in it' }, admin.token),
      400,
      'VALIDATION_ERROR',
    ],
    [
      await stack.http.post(`/admin/keys/rotations/${workflowId}/steps/no-such-step/confirm`, {}, admin.token),
      404,
      'UNKNOWN_MANUAL_STEP',
    ],
    [
      await stack.http.post(
        `/admin/keys/rotations/key-rotation-STRIPE_API_KEY-nope/secret`,
        { secret: 'sk_test_x' },
        admin.token,
      ),
      404,
      'ROTATION_NOT_FOUND',
    ],
    [
      await stack.http.post(
        `/admin/keys/rotations/${await startRotation('JWT_SIGNING')}/secret`,
        { secret: 'x' },
        admin.token,
      ),
      409,
      'SECRET_NOT_SUPPLIED',
    ],
    [
      await stack.http.post(
        `/admin/keys/rotations/${workflowId}/secret`,
        { secret: 'whsec_x' },
        (await createUser(stack)).token,
      ),
      403,
      'FORBIDDEN',
    ],
  ] as const;
  expect(cases.map(([answer]) => [answer.status, answer.body.error?.code])).toEqual(
    cases.map(([, status, code]) => [status, code]),
  );
  expect((await viewOf(workflowId)).step).toBe('AWAITING_SECRET');
  expect(await keysOf('STRIPE_WEBHOOK_SECRET')).not.toContainEqual(expect.arrayContaining(['STAGED']));
  await stack.http.post(`/admin/keys/rotations/${workflowId}/cancel`, { reason: 'test over' }, admin.token);
  expect((await stack.temporal.workflow.getHandle(workflowId).result()).step).toBe('ROLLED_BACK');
});

test('the ops CLI runs the same rotation: rotate, supply from standard input, confirm, list', async () => {
  const newKey = `sk_test_${randomBytes(12).toString('hex')}`;
  const started = await runOps(
    stack,
    admin.email,
    'keys',
    'rotate',
    '--purpose',
    'STRIPE_API_KEY',
    '--reason',
    'key leaked in a screenshot',
  );
  expect(started.code).toBe(0);
  const { workflowId, view } = JSON.parse(started.stdout);
  expect(view.manualSteps.map((step: { id: string }) => step.id)).toEqual(['old-key-expiry']);

  const supplied = await runOpsWithInput(stack, admin.email, `${newKey}\n`, 'keys', 'supply', workflowId);
  expect(supplied.code).toBe(0);
  expect(supplied.stdout).not.toContain(newKey);
  const unknownStep = await runOps(stack, admin.email, 'keys', 'confirm', workflowId, 'no-such-step');
  expect({ code: unknownStep.code, stderr: unknownStep.stderr }).toEqual({
    code: 2,
    stderr: expect.stringContaining('no manual step no-such-step'),
  });
  expect(
    (
      await runOps(
        stack,
        admin.email,
        'keys',
        'confirm',
        workflowId,
        'old-key-expiry',
        '--note',
        'rolled, old expires tomorrow',
      )
    ).code,
  ).toBe(0);

  expect((await stack.temporal.workflow.getHandle(workflowId).result()).step).toBe('DONE');
  const listed = await runOps(stack, admin.email, 'keys', 'list', '--purpose', 'STRIPE_API_KEY');
  expect(JSON.parse(listed.stdout).at(-1)).toMatchObject({ purpose: 'STRIPE_API_KEY', status: 'ACTIVE' });
  expect(listed.stdout).not.toContain(newKey);
  const trail = await auditTrail(workflowId);
  expect(trail.find((e) => e.action === 'KEY_MANUAL_STEP_CONFIRMED')).toMatchObject({
    actorId: admin.id,
    reason: 'rolled, old expires tomorrow',
  });
});

test('one rotation per provider secret at a time; a cancel rolls back before promotion and is too late after', async () => {
  // Two admins press the button at the same moment: one rotation starts, the other is told which.
  const both = await Promise.all(
    ['first', 'second'].map((who) =>
      stack.http.post(
        '/admin/keys/rotate',
        { purpose: 'RAZORPAY_WEBHOOK_SECRET', reason: `${who} admin` },
        admin.token,
      ),
    ),
  );
  expect(both.map((r) => r.status).sort()).toEqual([202, 409]);
  const razorpay: string = both.find((r) => r.status === 202)!.body.workflowId;
  expect(both.find((r) => r.status === 409)!.body.error).toMatchObject({
    code: 'ROTATION_IN_PROGRESS',
    details: { workflowId: razorpay },
  });
  const second = await stack.http.post(
    '/admin/keys/rotate',
    { purpose: 'RAZORPAY_WEBHOOK_SECRET', reason: 'again' },
    admin.token,
  );
  expect({
    status: second.status,
    code: second.body.error.code,
    running: second.body.error.details.workflowId,
  }).toEqual({ status: 409, code: 'ROTATION_IN_PROGRESS', running: razorpay });

  // Promoted (Razorpay's new secret is accepted before the dashboard switch): a cancel cannot take it back.
  await stack.http.post(
    `/admin/keys/rotations/${razorpay}/secret`,
    { secret: randomBytes(16).toString('hex') },
    admin.token,
  );
  await untilStep(razorpay, 'AWAITING_PROVIDER_SWITCH');
  expect(
    (await stack.http.post(`/admin/keys/rotations/${razorpay}/cancel`, { reason: 'changed my mind' }, admin.token))
      .status,
  ).toBe(202);
  expect((await viewOf(razorpay)).step).toBe('AWAITING_PROVIDER_SWITCH');
  await stack.http.post(`/admin/keys/rotations/${razorpay}/steps/dashboard-secret-updated/confirm`, {}, admin.token);
  expect((await stack.temporal.workflow.getHandle(razorpay).result()).step).toBe('DONE');

  // Not yet promoted: the cancel rolls it back and the staged secret is never used.
  const stripeRotation = await startRotation('STRIPE_WEBHOOK_SECRET');
  await stack.http.post(
    `/admin/keys/rotations/${stripeRotation}/secret`,
    { secret: `whsec_${randomBytes(16).toString('hex')}` },
    admin.token,
  );
  expect(
    (await stack.http.post(`/admin/keys/rotations/${stripeRotation}/cancel`, {}, admin.token)).body.error.code,
  ).toBe('VALIDATION_ERROR'); // a reason is required
  expect(
    (
      await stack.http.post(
        `/admin/keys/rotations/${stripeRotation}/cancel`,
        { reason: "pasted the wrong endpoint's secret" },
        admin.token,
      )
    ).status,
  ).toBe(202);
  const result = await stack.temporal.workflow.getHandle(stripeRotation).result();
  expect(result).toMatchObject({ step: 'ROLLED_BACK', failure: expect.stringContaining('cancelled') });
  const versions = await keysOf('STRIPE_WEBHOOK_SECRET');
  expect(versions.filter(([, status]) => status === 'STAGED')).toEqual([]);
  expect(versions.filter(([, status]) => status === 'ACTIVE')).toHaveLength(1);
  expect((await auditTrail(stripeRotation)).map((e) => [e.action, e.actorId])).toEqual([
    ['KEY_ROTATION_STARTED', admin.id],
    ['KEY_SUPPLIED', admin.id],
    ['KEY_ROTATION_CANCEL_REQUESTED', admin.id],
    ['KEY_ROTATION_ROLLED_BACK', 'system'],
  ]);
  const cancelledAgain = await stack.http.post(
    `/admin/keys/rotations/${stripeRotation}/cancel`,
    { reason: 'twice' },
    admin.token,
  );
  expect({ status: cancelledAgain.status, code: cancelledAgain.body.error.code }).toEqual({
    status: 409,
    code: 'INVALID_ROTATION_STATE',
  });

  // Finished means the next rotation of that secret may start.
  const next = await startRotation('STRIPE_WEBHOOK_SECRET');
  await stack.http.post(`/admin/keys/rotations/${next}/cancel`, { reason: 'test over' }, admin.token);
  expect((await stack.temporal.workflow.getHandle(next).result()).step).toBe('ROLLED_BACK');
});

test('the rotations so far are listed, newest first, with their outcome', async () => {
  const listed = await eventually(async () => {
    const { rotations } = (await stack.http.get('/admin/keys/rotations?purpose=STRIPE_API_KEY', admin.token)).body as {
      rotations: { workflowId: string; purpose: string; status: string; startedAt: string }[];
    };
    return rotations.length >= 3 && rotations.every((r) => r.status === 'COMPLETED') && rotations;
  }, 'rotations listed');
  expect(new Set(listed.map((r) => r.purpose))).toEqual(new Set(['STRIPE_API_KEY']));
  const started = listed.map((r) => r.startedAt);
  expect(started).toEqual([...started].sort().reverse());
  expect((await stack.http.get('/admin/keys/rotations?limit=0', admin.token)).status).toBe(400);
});
