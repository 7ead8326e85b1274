/**
 * The ledger's one writer against PostgreSQL, where two runs of the same movement (one business
 * key: a retried activity beside the run it replaces) meet. The writer reads the ledger in the
 * statement that takes the stock row's lock, so a twin that commits while it waits for that lock
 * is not in what it read; these tests hold a twin's transaction open until the second run is
 * seen waiting for the lock, then commit it: the second run must answer ALREADY_APPLIED with the
 * twin's entry, and the stock must move once, for a product and for a variant, and also where
 * counting the movement twice would have refused it (the last unit reserved twice).
 */
import { randomUUID } from 'node:crypto';
import { dropDatabase } from '../../scripts/lib/databases';
import { recordStockMovement, type MovementResult, type StockMovement } from '../../src/inventory/ledger';
import { createPrisma, txOptions, type PrismaClient } from '../../src/platform/db';
import { eventually } from '../helpers/stack';
import { migratedScratchDatabase } from '../helpers/databases';

let databaseUrl: string;
let prisma: PrismaClient;

beforeAll(async () => {
  databaseUrl = await migratedScratchDatabase('ledger');
  prisma = createPrisma(databaseUrl, 4);
});
afterAll(async () => {
  await prisma.$disconnect();
  await dropDatabase(databaseUrl);
});

async function product(stock: number): Promise<string> {
  const id = randomUUID();
  const sku = `TWIN-${id.slice(0, 8)}`;
  await prisma.product.create({ data: { id, sku, name: sku, price: 100, currency: 'USD', stock } });
  return id;
}

/** Backends of this database waiting for a row lock: the second run, blocked behind its twin. */
async function waitingForLock(): Promise<number> {
  const [{ waiting }] = await prisma.$queryRaw<{ waiting: number }[]>`
    SELECT count(*)::int AS waiting FROM pg_stat_activity
     WHERE datname = current_database() AND wait_event_type = 'Lock'`;
  return waiting;
}

/**
 * Runs `m` twice: the first run's transaction stays open until the second is waiting for the row
 * lock, then commits. Answers both results.
 */
async function twins(m: StockMovement): Promise<[MovementResult, MovementResult]> {
  let commitFirst!: () => void;
  const held = new Promise<void>((resolve) => (commitFirst = resolve));
  let firstMoved!: () => void;
  const moved = new Promise<void>((resolve) => (firstMoved = resolve));
  const first = prisma.$transaction(async (tx) => {
    const result = await recordStockMovement(tx, m);
    firstMoved();
    await held;
    return result;
  }, txOptions);
  await moved;
  const second = prisma.$transaction((tx) => recordStockMovement(tx, m), txOptions);
  await eventually(async () => (await waitingForLock()) === 1, 'the second run to wait for the row lock');
  commitFirst();
  return Promise.all([first, second]);
}

const reserve = (productId: string, quantity: number, variantId?: string): StockMovement => ({
  productId,
  variantId,
  type: 'RESERVE',
  reservedDelta: quantity,
  actor: 'test',
  reason: 'twin runs',
  reference: 'order-twin',
  idempotencyKey: `reserve:twin:${randomUUID()}`,
});

test('a twin committed while the second run waited for the lock: the second answers ALREADY_APPLIED, stock moves once', async () => {
  const productId = await product(10);
  const [first, second] = await twins(reserve(productId, 3));
  expect(first).toMatchObject({ status: 'APPLIED', previous: { stock: 10, reserved: 0 }, next: { reserved: 3 } });
  expect(second).toEqual({ ...first, status: 'ALREADY_APPLIED', lowStockCrossed: false });
  const row = await prisma.product.findUniqueOrThrow({ where: { id: productId } });
  expect([row.stock, row.reservedStock]).toEqual([10, 3]);
  expect(await prisma.inventoryLedger.count({ where: { productId } })).toBe(1);
});

test('the last unit reserved by twins: the second run is the same reservation, not a refusal for want of stock', async () => {
  const productId = await product(1);
  const [first, second] = await twins(reserve(productId, 1));
  expect(first.status).toBe('APPLIED');
  expect(second).toMatchObject({ status: 'ALREADY_APPLIED', entryId: (first as { entryId: string }).entryId });
  const row = await prisma.product.findUniqueOrThrow({ where: { id: productId } });
  expect([row.stock, row.reservedStock]).toEqual([1, 1]);
});

test("a variant's twins: the variant's stock moves once", async () => {
  const productId = await product(0);
  const variantId = randomUUID();
  await prisma.productVariant.create({
    data: { id: variantId, productId, sku: `TWIN-V-${variantId.slice(0, 8)}`, name: 'Small', stock: 4 },
  });
  const [first, second] = await twins(reserve(productId, 2, variantId));
  expect(first.status).toBe('APPLIED');
  expect(second.status).toBe('ALREADY_APPLIED');
  const variant = await prisma.productVariant.findUniqueOrThrow({ where: { id: variantId } });
  expect([variant.stock, variant.reservedStock]).toEqual([4, 2]);
  expect(await prisma.inventoryLedger.count({ where: { variantId } })).toBe(1);
});

test('a movement that would leave too little stock is still refused, and writes nothing', async () => {
  const productId = await product(2);
  const refused = await prisma.$transaction((tx) => recordStockMovement(tx, reserve(productId, 3)), txOptions);
  expect(refused).toEqual({ status: 'REFUSED', refusal: 'INSUFFICIENT_AVAILABLE', current: { stock: 2, reserved: 0 } });
  expect(await prisma.inventoryLedger.count({ where: { productId } })).toBe(0);
});
