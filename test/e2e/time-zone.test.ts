/**
 * A database server set to local time (TimeZone Asia/Kolkata, UTC+5:30) stores the same
 * instants as one in UTC. Prisma writes every DateTime as UTC into the zoneless TIMESTAMP(3)
 * columns; the raw SQL writes its times as UTC too (now() AT TIME ZONE 'UTC', never a bare now()
 * or a column's DEFAULT CURRENT_TIMESTAMP, which are the session's local time), without setting
 * the session's TimeZone, which PgBouncer's transaction mode would not keep (pgbouncer.test.ts).
 */
import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import pg from 'pg';
import { dropDatabase } from '../../scripts/lib/databases';
import { recordStockAdditions, recordStockMovement } from '../../src/inventory/ledger';
import { createPrisma, txOptions, type PrismaClient } from '../../src/platform/db';
import { sendOnce } from '../../src/platform/mail';
import { migratedScratchDatabase } from '../helpers/databases';

let databaseUrl: string;
let prisma: PrismaClient;

beforeAll(async () => {
  databaseUrl = await migratedScratchDatabase('tz');
  const url = new URL(databaseUrl);
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`ALTER DATABASE "${url.pathname.slice(1)}" SET TimeZone = 'Asia/Kolkata'`);
  await admin.end();
  prisma = createPrisma(databaseUrl, 2);
});
afterAll(async () => {
  await prisma.$disconnect();
  await dropDatabase(databaseUrl);
});

test("on a server in local time, stock movements, their ledger entries and an email's claim are stamped in UTC", async () => {
  const [{ zone }] = await prisma.$queryRaw<{ zone: string }[]>`SELECT current_setting('TimeZone') AS zone`;
  expect(zone).toBe('Asia/Kolkata'); // what our connections work in

  const before = Date.now();
  const [reserved, added] = [randomUUID(), randomUUID()];
  for (const id of [reserved, added])
    await prisma.product.create({
      data: { id, sku: `TZ-${id.slice(0, 8)}`, name: 'tz', price: 100, currency: 'USD', stock: 5 },
    });
  const moved = await prisma.$transaction(
    (tx) =>
      recordStockMovement(tx, {
        productId: reserved,
        type: 'RESERVE',
        reservedDelta: 1,
        actor: 'test',
        reason: 'time zone',
        idempotencyKey: `reserve:tz:${reserved}`,
      }),
    txOptions,
  );
  expect(moved.status).toBe('APPLIED');
  const restocked = await prisma.$transaction((tx) =>
    recordStockAdditions(tx, [{ productId: added, units: 3, idempotencyKey: `restock:tz:${added}` }], {
      type: 'RESTOCK',
      actor: 'test',
      reason: 'time zone',
    }),
  );
  expect(restocked).toBe(1);
  const key = `tz:${randomUUID()}`;
  await sendOnce(
    { prisma, mailer: nodemailer.createTransport({ jsonTransport: true }), from: 'shop@example.test' },
    key,
    { to: 'customer@example.test', subject: 'time zone', text: 'hello' },
    'test',
  );
  const after = Date.now();

  const products = await prisma.product.findMany({ where: { id: { in: [reserved, added] } } });
  const entries = await prisma.inventoryLedger.findMany({ where: { productId: { in: [reserved, added] } } });
  const email = await prisma.emailMessage.findUniqueOrThrow({ where: { idempotencyKey: key } });
  expect(entries).toHaveLength(2);
  const stamps = [
    ...products.flatMap((p) => [p.createdAt, p.updatedAt]),
    ...entries.map((e) => e.createdAt),
    email.createdAt,
  ];
  for (const at of stamps) {
    expect(at.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(at.getTime()).toBeLessThanOrEqual(after + 1000);
  }
});
