/**
 * The inventory ledger's one writer. Every change to a product's (or variant's) units on hand or
 * reserved goes through recordStockMovement: it locks the stock row, refuses a change that would
 * leave negative stock or fewer units on hand than unpaid orders hold, updates the row and writes
 * one ledger row with the values before and after. The row's idempotency key is the movement's
 * business key, so a retried activity or a repeated request moves nothing twice. recordStockAdditions
 * is its form for adding units to many products at once (an import's opening stock). Because
 * nothing else writes stock, on-hand and reserved always equal the sums of the ledger (checkLedger).
 */
import { randomUUID } from 'node:crypto';
import type { PrismaClient, Transaction } from '../platform/db';
import { Prisma } from '../generated/prisma/client';

export const ledgerTypes = [
  'RESERVE',
  'RELEASE',
  'SALE',
  'ADJUSTMENT',
  'RESET',
  'IMPORT',
  'RESTOCK',
  'RETURN',
  'ROLLBACK',
] as const;
export type LedgerType = (typeof ledgerTypes)[number];

export interface StockMovement {
  productId: string;
  /** The variant whose own stock moves; the product's stock when absent. */
  variantId?: string | null;
  type: LedgerType;
  /** Units added to (negative: taken from) stock on hand. */
  stockDelta?: number;
  /** Or the new count on hand (an adjustment or reset), instead of stockDelta. */
  setStock?: number;
  /** Units added to (negative: taken from) the units unpaid orders hold. */
  reservedDelta?: number;
  actor: string;
  reason: string;
  reference?: string | null;
  /** The movement's business key: a second movement with the same key changes nothing. */
  idempotencyKey: string;
}

export interface StockLevels {
  stock: number;
  reserved: number;
}

export type MovementRefusal = 'NOT_FOUND' | 'INSUFFICIENT_AVAILABLE' | 'STOCK_BELOW_RESERVED' | 'NEGATIVE';

export type MovementResult =
  | {
      status: 'APPLIED' | 'ALREADY_APPLIED';
      entryId: string;
      previous: StockLevels;
      next: StockLevels;
      /** This movement took available stock to or below the threshold (once per crossing). */
      lowStockCrossed: boolean;
    }
  | { status: 'REFUSED'; refusal: MovementRefusal; current?: StockLevels };

interface LockedRow {
  sku: string;
  stock: number;
  reserved_stock: number;
  low_stock_threshold: number;
  low_stock_alerted_at: Date | null;
  /** The ledger row already written under the movement's key, as the lock's statement saw it. */
  earlier_id: string | null;
  earlier_previous_stock: number | null;
  earlier_new_stock: number | null;
  earlier_previous_reserved: number | null;
  earlier_new_reserved: number | null;
}

/**
 * Locks the stock row and, in the same statement, looks for a ledger row under the movement's key.
 * NO KEY UPDATE: writers take turns on the row, while inserts that merely reference it (an order
 * line's foreign key takes KEY SHARE) neither wait for nor deadlock with them.
 *
 * The ledger is read with the statement's snapshot, taken before the lock was granted: a twin of
 * this movement (the same key) that committed while this one waited for the lock is not seen
 * here, though its change to the row is. The write (applyMovement) is what settles that case: it
 * inserts the ledger row first and updates the stock only if the key was free.
 */
async function lockStockRow(tx: Transaction, m: StockMovement): Promise<LockedRow | undefined> {
  const earlier = Prisma.sql`LEFT JOIN inventory_ledger l ON l.idempotency_key = ${m.idempotencyKey}`;
  const earlierColumns = Prisma.sql`l.id AS earlier_id, l.previous_stock AS earlier_previous_stock,
        l.new_stock AS earlier_new_stock, l.previous_reserved AS earlier_previous_reserved,
        l.new_reserved AS earlier_new_reserved`;
  const rows = m.variantId
    ? await tx.$queryRaw<
        LockedRow[]
      >`SELECT v.sku, v.stock, v.reserved_stock, p.low_stock_threshold, v.low_stock_alerted_at, ${earlierColumns}
        FROM product_variants v JOIN products p ON p.id = v.product_id ${earlier}
        WHERE v.id = ${m.variantId}::uuid AND v.product_id = ${m.productId}::uuid FOR NO KEY UPDATE OF v`
    : await tx.$queryRaw<LockedRow[]>`SELECT p.sku, p.stock, p.reserved_stock, p.low_stock_threshold,
        p.low_stock_alerted_at, ${earlierColumns}
        FROM products p ${earlier} WHERE p.id = ${m.productId}::uuid FOR NO KEY UPDATE OF p`;
  return rows[0];
}

/** The answer for a movement already in the ledger under its key. */
function alreadyApplied(earlier: {
  id: string;
  previousStock: number;
  newStock: number;
  previousReserved: number;
  newReserved: number;
}): MovementResult {
  return {
    status: 'ALREADY_APPLIED',
    entryId: earlier.id,
    previous: { stock: earlier.previousStock, reserved: earlier.previousReserved },
    next: { stock: earlier.newStock, reserved: earlier.newReserved },
    lowStockCrossed: false,
  };
}

/** The ledger row under `key`, read now (after the row lock): a twin committed meanwhile is seen. */
async function earlierEntry(tx: Transaction, key: string): Promise<MovementResult | undefined> {
  const earlier = await tx.inventoryLedger.findUnique({ where: { idempotencyKey: key } });
  return earlier ? alreadyApplied(earlier) : undefined;
}

/**
 * Applies one stock movement and writes its ledger row, inside the caller's transaction: two
 * statements (the lock with the ledger's look-up, then the write), where it was four.
 */
export async function recordStockMovement(tx: Transaction, m: StockMovement): Promise<MovementResult> {
  const row = await lockStockRow(tx, m);
  if (!row) return { status: 'REFUSED', refusal: 'NOT_FOUND' };
  if (row.earlier_id)
    return alreadyApplied({
      id: row.earlier_id,
      previousStock: row.earlier_previous_stock!,
      newStock: row.earlier_new_stock!,
      previousReserved: row.earlier_previous_reserved!,
      newReserved: row.earlier_new_reserved!,
    });
  const previous = { stock: row.stock, reserved: row.reserved_stock };
  const next = {
    stock: m.setStock ?? row.stock + (m.stockDelta ?? 0),
    reserved: row.reserved_stock + (m.reservedDelta ?? 0),
  };
  const refusal: MovementRefusal | undefined =
    next.stock < 0 || next.reserved < 0
      ? 'NEGATIVE'
      : next.stock < next.reserved
        ? m.type === 'RESERVE'
          ? 'INSUFFICIENT_AVAILABLE'
          : 'STOCK_BELOW_RESERVED'
        : undefined;
  // A refusal is answered only for a key still unused: a twin that committed while this movement
  // waited for the lock moved the row already, and this is a repeat of it, not a refusal.
  if (refusal) return (await earlierEntry(tx, m.idempotencyKey)) ?? { status: 'REFUSED', refusal, current: previous };

  // Low stock: armed while available is above the threshold, fired once when a movement crosses it.
  const available = next.stock - next.reserved;
  const low = available <= row.low_stock_threshold;
  const lowStockCrossed = low && !row.low_stock_alerted_at && available < previous.stock - previous.reserved;
  const alertedAt = low ? (lowStockCrossed ? new Date() : row.low_stock_alerted_at) : null;
  const entryId = randomUUID();
  if (!(await applyMovement(tx, m, { entryId, previous, next, alertedAt })))
    return (await earlierEntry(tx, m.idempotencyKey))!; // the key was taken meanwhile: that twin's answer
  if (lowStockCrossed) {
    await tx.lowStockAlert.create({
      data: {
        id: randomUUID(),
        productId: m.productId,
        variantId: m.variantId ?? null,
        sku: row.sku,
        available,
        threshold: row.low_stock_threshold,
      },
    });
  }
  return { status: 'APPLIED', entryId, previous, next, lowStockCrossed };
}

/**
 * Writes the ledger row and the stock row's new levels in one statement: the ledger row first,
 * and the levels only if its key was free (ON CONFLICT checks the rows committed by now, a twin's
 * included), so a movement is never applied twice. False when the key was taken.
 */
async function applyMovement(
  tx: Transaction,
  m: StockMovement,
  w: { entryId: string; previous: StockLevels; next: StockLevels; alertedAt: Date | null },
): Promise<boolean> {
  const { previous, next } = w;
  const quantity = Math.abs(next.stock - previous.stock) || Math.abs(next.reserved - previous.reserved);
  // Times are written as UTC explicitly, as Prisma writes every DateTime into these zoneless
  // TIMESTAMP(3) columns: now() and the columns' DEFAULT CURRENT_TIMESTAMP would write the
  // session's local time on a server not set to UTC (test/e2e/time-zone.test.ts).
  const entry = Prisma.sql`INSERT INTO inventory_ledger (id, product_id, variant_id, type, quantity, previous_stock,
        new_stock, previous_reserved, new_reserved, reason, actor, reference, idempotency_key, created_at)
      VALUES (${w.entryId}::uuid, ${m.productId}::uuid, ${m.variantId ?? null}::uuid, ${m.type}::"InventoryLedgerType",
        ${quantity}, ${previous.stock}, ${next.stock}, ${previous.reserved}, ${next.reserved}, ${m.reason}, ${m.actor},
        ${m.reference ?? null}, ${m.idempotencyKey}, now() AT TIME ZONE 'UTC')
      ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`;
  const levels = Prisma.sql`stock = ${next.stock}, reserved_stock = ${next.reserved},
        low_stock_alerted_at = ${w.alertedAt}, updated_at = now() AT TIME ZONE 'UTC'`;
  const moved = m.variantId
    ? await tx.$executeRaw`WITH entry AS (${entry})
        UPDATE product_variants SET ${levels} WHERE id = ${m.variantId}::uuid AND EXISTS (SELECT 1 FROM entry)`
    : await tx.$executeRaw`WITH entry AS (${entry})
        UPDATE products SET ${levels} WHERE id = ${m.productId}::uuid AND EXISTS (SELECT 1 FROM entry)`;
  return moved === 1;
}

/** Units added to one product's stock on hand, for recordStockAdditions. */
export interface StockAddition {
  productId: string;
  units: number;
  /** The movement's business key, as in StockMovement. */
  idempotencyKey: string;
}

/**
 * recordStockMovement for many products at once, for additions only (an import's opening stock):
 * two statements for the lot instead of four per product. Each product row is updated (the
 * UPDATE's own row lock orders it with every other writer) and its ledger row written with the
 * values before and after, in the caller's transaction; a key already in the ledger moves
 * nothing. Adding units never goes negative or below reserved and never crosses the low-stock
 * threshold downwards, so nothing is refused and no alert is due; stock back above the
 * threshold re-arms the alert, as recordStockMovement does. Answers how many moved.
 */
export async function recordStockAdditions(
  tx: Transaction,
  additions: StockAddition[],
  m: { type: Extract<LedgerType, 'IMPORT' | 'RESTOCK'>; actor: string; reason: string; reference?: string | null },
): Promise<number> {
  const moving = additions.filter((a) => a.units > 0);
  if (moving.some((a) => !Number.isInteger(a.units))) throw new TypeError('units must be whole numbers');
  if (new Set(moving.map((a) => a.productId)).size !== moving.length) throw new TypeError('one addition per product'); // an UPDATE moves each row once
  if (moving.length === 0) return 0;
  return tx.$executeRaw`
    WITH wanted AS (
      SELECT a.product_id, a.units, a.key
        FROM unnest(${moving.map((a) => a.productId)}::uuid[], ${moving.map((a) => a.units)}::int[],
                    ${moving.map((a) => a.idempotencyKey)}::text[]) AS a(product_id, units, key)
       WHERE NOT EXISTS (SELECT 1 FROM inventory_ledger l WHERE l.idempotency_key = a.key)),
    moved AS (
      UPDATE products p SET stock = p.stock + w.units, updated_at = now() AT TIME ZONE 'UTC',
             low_stock_alerted_at = CASE WHEN p.stock + w.units - p.reserved_stock > p.low_stock_threshold
                                         THEN NULL ELSE p.low_stock_alerted_at END
        FROM wanted w WHERE p.id = w.product_id
      RETURNING p.id, p.stock - w.units AS previous_stock, p.stock AS new_stock, p.reserved_stock, w.units, w.key)
    INSERT INTO inventory_ledger (id, product_id, variant_id, type, quantity, previous_stock, new_stock,
                                  previous_reserved, new_reserved, reason, actor, reference, idempotency_key, created_at)
    SELECT gen_random_uuid(), id, NULL, ${m.type}::"InventoryLedgerType", units, previous_stock, new_stock,
           reserved_stock, reserved_stock, ${m.reason}, ${m.actor}, ${m.reference ?? null}, key, now() AT TIME ZONE 'UTC'
      FROM moved`;
}

export interface LedgerMismatch {
  productId: string;
  variantId: string | null;
  sku: string;
  stock: number;
  reserved: number;
  ledgerStock: number;
  ledgerReserved: number;
}

/**
 * Proves the ledger: for every product and variant, units on hand and reserved equal the sum of
 * its ledger rows' changes. Answers how many were checked and every one that disagrees.
 */
export async function checkLedger(prisma: PrismaClient): Promise<{ checked: number; mismatches: LedgerMismatch[] }> {
  const rows = await prisma.$queryRaw<
    {
      product_id: string;
      variant_id: string | null;
      sku: string;
      stock: number;
      reserved: number;
      ledger_stock: bigint;
      ledger_reserved: bigint;
    }[]
  >(Prisma.sql`
    WITH sums AS (
      SELECT product_id, variant_id, SUM(new_stock - previous_stock) AS ds, SUM(new_reserved - previous_reserved) AS dr
      FROM inventory_ledger GROUP BY product_id, variant_id)
    SELECT p.id AS product_id, NULL::uuid AS variant_id, p.sku, p.stock, p.reserved_stock AS reserved,
           COALESCE(s.ds, 0)::bigint AS ledger_stock, COALESCE(s.dr, 0)::bigint AS ledger_reserved
      FROM products p LEFT JOIN sums s ON s.product_id = p.id AND s.variant_id IS NULL
    UNION ALL
    SELECT v.product_id, v.id, v.sku, v.stock, v.reserved_stock,
           COALESCE(s.ds, 0)::bigint, COALESCE(s.dr, 0)::bigint
      FROM product_variants v LEFT JOIN sums s ON s.variant_id = v.id`);
  const mismatches = rows
    .map((r) => ({
      productId: r.product_id,
      variantId: r.variant_id,
      sku: r.sku,
      stock: r.stock,
      reserved: r.reserved,
      ledgerStock: Number(r.ledger_stock),
      ledgerReserved: Number(r.ledger_reserved),
    }))
    .filter((r) => r.stock !== r.ledgerStock || r.reserved !== r.ledgerReserved);
  return { checked: rows.length, mismatches };
}
