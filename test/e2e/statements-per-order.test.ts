/**
 * What a card order costs the database in the two places issue 18 cut, counted as the statements
 * a pg connection sends: placing it (the order and its lines two inserts, nothing read before or
 * back) and its confirmation email (one read of the order with its lines and customer, one claim,
 * one mark). And the email's claim keeps its guarantees in one statement: of two senders at once
 * one sends, and a claim another sender committed while the statement ran (which the statement
 * cannot see) is read on its own, against the real PostgreSQL and SMTP listener.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { PrismaPg } from '@prisma/adapter-pg';
import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import pg from 'pg';
import { emailActivities } from '../../src/activities/email';
import { PrismaClient } from '../../src/generated/prisma/client';
import { placeOrder, type PlacementInput } from '../../src/orders/placement';
import { sendOnce, type Mail } from '../../src/platform/mail';
import { orderWorkflowId } from '../../src/workflows/ids';
import { createProduct, createUser, eventually, useStack } from '../helpers/stack';

const { stack, admin } = useStack({ worker: false });
/** Every statement the counted client sent, in order. */
const sent: string[] = [];
let pool: pg.Pool;
let counted: PrismaClient;

beforeAll(() => {
  pool = new pg.Pool({ connectionString: stack.config.DATABASE_URL, max: 2 });
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    Object.assign(client, {
      query: (...args: unknown[]) => {
        const first = args[0] as string | { text: string };
        sent.push(typeof first === 'string' ? first : first.text);
        return query(...args);
      },
    });
  });
  counted = new PrismaClient({ adapter: new PrismaPg(pool) });
});
afterAll(async () => {
  await counted.$disconnect();
  await pool.end();
});

async function statementsOf(run: () => Promise<unknown>): Promise<string[]> {
  const from = sent.length;
  await run();
  return sent.slice(from).map((s) => s.replace(/\s+/g, ' ').trim());
}

const mailer = () => nodemailer.createTransport(stack.config.SMTP_URL);
const messagesTo = (email: string) => stack.smtp.messages.filter((m) => m.to.includes(email));

async function cardOrder(quantity: number): Promise<{ input: PlacementInput; email: string }> {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 50, price: 1200 });
  const input: PlacementInput = {
    orderId: randomUUID(),
    customerId: customer.id,
    items: [{ productId: product.id, quantity }],
    paymentMethod: 'CARD',
    reservationTtlMs: 60_000,
    actor: { id: customer.id, role: 'CUSTOMER' },
  };
  return { input, email: customer.email };
}

test('placing a card order: the order and its lines are two inserts, nothing read before or back; a second run answers the same order, its catalogue changed or not', async () => {
  const { input } = await cardOrder(2);
  let first: unknown;
  const placing = await statementsOf(async () => (first = await placeOrder(counted, input)));
  const onOrders = placing.filter((s) => /"public"\."(orders|order_items)"/.test(s)).map((s) => s.split(' ')[0]);
  expect(onOrders).toEqual(['INSERT', 'INSERT']);
  // The catalogue is read once: the products, then their variants.
  expect(placing.filter((s) => s.startsWith('SELECT "public"."products"'))).toHaveLength(1);
  expect(placing.filter((s) => s.startsWith('SELECT "public"."product_variants"'))).toHaveLength(1);

  // Its catalogue changed since (the product given variants): a second run still answers the order.
  await stack.prisma.productVariant.create({
    data: { id: randomUUID(), productId: input.items[0].productId, sku: `V-${randomUUID()}`, name: 'Red', stock: 1 },
  });
  let second: unknown;
  const again = await statementsOf(async () => (second = await placeOrder(counted, input)));
  expect(second).toEqual(first);
  await expect(placeOrder(counted, { ...input, orderId: randomUUID() })).rejects.toMatchObject({
    code: 'VARIANT_REQUIRED',
  });
  expect(again.some((s) => s.startsWith('INSERT INTO "public"."order_items"'))).toBe(false);
  const product = await stack.prisma.product.findUniqueOrThrow({ where: { id: input.items[0].productId } });
  expect(product.reservedStock).toBe(2);
});

test('the confirmation email is three statements (read, claim, mark sent); sent again, two and no mail', async () => {
  const { input, email } = await cardOrder(3);
  await placeOrder(stack.prisma, input);
  const mail = emailActivities(counted, mailer(), stack.config.MAIL_FROM);
  const send = (activityId: string) =>
    statementsOf(() =>
      new MockActivityEnvironment({
        activityId,
        workflowExecution: { workflowId: orderWorkflowId(input.orderId), runId: randomUUID() },
      }).run(mail.sendOrderEmail, { orderId: input.orderId, kind: 'ORDER_CONFIRMED' as const }),
    );

  // The SMTP listener stores a message before it accepts it: sent is received.
  expect(await send('5')).toHaveLength(3);
  const [confirmation] = messagesTo(email);
  expect(confirmation.subject).toBe(`Order ${input.orderId} confirmed`);
  expect(confirmation.text).toContain('Hello Test customer');
  expect(confirmation.text).toMatch(/3 x Product SKU-\w+ @ \$12\.00/);
  expect(confirmation.text).toContain('Total: $36.00');
  expect(confirmation.messageId).toBe(`<ORDER.CONFIRMED.${input.orderId}@durable-commerce>`);

  expect(await send('5')).toHaveLength(2); // its own retry, once sent
  expect(await send('6')).toHaveLength(2); // another activity
  expect(messagesTo(email)).toHaveLength(1);
});

test('two senders of the same message at once: the one whose claim is stored sends it, once, with its stable Message-ID', async () => {
  const to = `race-${randomUUID()}@example.test`;
  const keys = Array.from({ length: 8 }, () => `RACE:${randomUUID()}`);
  const mail: Mail = { prisma: stack.prisma, mailer: mailer(), from: stack.config.MAIL_FROM };
  await Promise.all(
    keys.flatMap((key) =>
      ['a', 'b'].map((claim) => sendOnce(mail, key, { to, subject: key, text: 'once' }, `${key}/${claim}`)),
    ),
  );
  const rows = await stack.prisma.emailMessage.findMany({ where: { idempotencyKey: { in: keys } } });
  expect(rows.every((row) => row.sentAt !== null)).toBe(true);
  for (const key of keys) {
    expect(messagesTo(to).filter((m) => m.subject === key)).toEqual([
      expect.objectContaining({ messageId: `<${key.replace(/:/g, '.')}@durable-commerce>` }),
    ]);
  }
  expect(rows).toHaveLength(keys.length);
});

test("a claim committed while the claim statement ran is read on its own: another's is left to it, our own is sent", async () => {
  const to = `late-${randomUUID()}@example.test`;
  const mail: Mail = { prisma: stack.prisma, mailer: mailer(), from: stack.config.MAIL_FROM };
  const holder = new pg.Client({ connectionString: stack.config.DATABASE_URL });
  await holder.connect();
  try {
    /** Claims `key` for `claimedBy` in a transaction held open until sendOnce's claim waits on it. */
    async function claimedMeanwhile(key: string, claimedBy: string) {
      await holder.query('BEGIN');
      await holder.query(
        `INSERT INTO email_messages (id, idempotency_key, "to", subject, message_id, claimed_by)
         VALUES ($1, $2, $3, $2, $4, $5)`,
        [randomUUID(), key, to, `<${key.replace(/:/g, '.')}@durable-commerce>`, claimedBy],
      );
      const sending = sendOnce(mail, key, { to, subject: key, text: 'late' }, 'ours');
      // Asked on a connection of its own: the holder's transaction would see activity as it first read it.
      await eventually(async () => {
        const waiting = await stack.prisma.$queryRaw<unknown[]>`
          SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
            AND query LIKE '%INSERT INTO email_messages%'`;
        return waiting.length > 0;
      }, 'the claim waiting for the held one');
      await holder.query('COMMIT');
      await sending;
    }

    const theirs = `LATE:${randomUUID()}`;
    await claimedMeanwhile(theirs, 'another activity');
    const ours = `LATE:${randomUUID()}`;
    await claimedMeanwhile(ours, 'ours'); // an earlier attempt of ours stored it and died before sending
    expect(messagesTo(to).map((m) => m.subject)).toEqual([ours]);
    const stored = await stack.prisma.emailMessage.findMany({ where: { idempotencyKey: { in: [theirs, ours] } } });
    expect(Object.fromEntries(stored.map((row) => [row.idempotencyKey, row.sentAt !== null]))).toEqual({
      [theirs]: false,
      [ours]: true,
    });
  } finally {
    await holder.end();
  }
});
