/**
 * Low stock: the list of everything at or below its threshold (a product's own stock, or each
 * variant's against its product's threshold), the crossings the ledger's writer recorded and who
 * hears of each (the product's vendor, else every active admin), and the daily digest. The
 * low-stock schedules (src/inventory/low-stock-schedule.ts) send them; this module says what.
 */
import type { PrismaClient } from '../platform/db';
import { activeAdminEmails } from '../access/admins';

export interface LowStockItem {
  productId: string;
  variantId: string | null;
  sku: string;
  name: string;
  availableStock: number;
  threshold: number;
  vendorEmail: string | null;
}

/** Every product or variant whose available stock is at or below its threshold, lowest first. */
export async function lowStockList(prisma: PrismaClient): Promise<LowStockItem[]> {
  const rows = await prisma.$queryRaw<LowStockItem[]>`
    SELECT p.id AS "productId", NULL::uuid AS "variantId", p.sku, p.name, p.stock - p.reserved_stock AS "availableStock",
           p.low_stock_threshold AS threshold, p.vendor_email AS "vendorEmail"
      FROM products p
     WHERE p.stock - p.reserved_stock <= p.low_stock_threshold
       AND NOT EXISTS (SELECT 1 FROM product_variants v WHERE v.product_id = p.id)
    UNION ALL
    SELECT p.id, v.id, v.sku, p.name || ' (' || v.name || ')', v.stock - v.reserved_stock, p.low_stock_threshold, p.vendor_email
      FROM product_variants v JOIN products p ON p.id = v.product_id
     WHERE v.stock - v.reserved_stock <= p.low_stock_threshold
     ORDER BY 5, 3`;
  return rows;
}

export interface PendingLowStockAlert {
  alertId: string;
  recipients: string[];
  subject: string;
  text: string;
}

/** Crossings not yet emailed, each with its recipients and message. */
export async function pendingLowStockAlerts(prisma: PrismaClient, limit = 100): Promise<PendingLowStockAlert[]> {
  const alerts = await prisma.lowStockAlert.findMany({
    where: { notifiedAt: null },
    orderBy: { createdAt: 'asc' },
    take: limit,
  });
  if (alerts.length === 0) return [];
  const products = await prisma.product.findMany({ where: { id: { in: alerts.map((a) => a.productId) } } });
  const admins = await activeAdminEmails(prisma);
  return alerts.map((alert) => {
    const product = products.find((p) => p.id === alert.productId);
    return {
      alertId: alert.id,
      recipients: product?.vendorEmail ? [product.vendorEmail] : admins,
      subject: `Low stock: ${alert.sku} has ${alert.available} left`,
      text:
        `${product?.name ?? alert.sku} (SKU ${alert.sku}) is down to ${alert.available} available units, ` +
        `at or below its threshold of ${alert.threshold}. Restock it, or adjust the count with ` +
        `POST /admin/inventory/adjustments if a physical count disagrees.\n`,
    };
  });
}

export async function markLowStockAlertSent(prisma: PrismaClient, alertId: string): Promise<void> {
  await prisma.lowStockAlert.updateMany({ where: { id: alertId, notifiedAt: null }, data: { notifiedAt: new Date() } });
}

/** The daily digest for admins: everything at or below its threshold (null when nothing is). */
export async function lowStockDigest(prisma: PrismaClient): Promise<{ subject: string; text: string } | null> {
  const items = await lowStockList(prisma);
  if (items.length === 0) return null;
  const lines = items.map((i) => `  ${i.sku}  ${i.name}: ${i.availableStock} available (threshold ${i.threshold})`);
  return {
    subject: `Low stock digest: ${items.length} item${items.length === 1 ? '' : 's'} at or below threshold`,
    text: `At or below their low-stock threshold:\n\n${lines.join('\n')}\n`,
  };
}
