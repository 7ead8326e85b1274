/**
 * The catalogue: creating products (with their variants), and reading them as the storefront
 * shows them (price, available stock, "Only N left" below 5), one at a time, by SKU or a page at
 * a time. Opening stock enters through the ledger's writer, so ledger and stock agree from the
 * first unit.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Product, ProductVariant } from '../generated/prisma/client';
import { isUniqueViolation, type PrismaClient, type Transaction } from '../platform/db';
import { audit } from '../access/audit';
import { ErrorCode } from '../workflows/vocabulary';
import { DomainError } from '../platform/errors';
import { recordStockMovement } from './ledger';

/** Below this many available units the catalogue says "Only N left". */
export const FEW_LEFT = 5;

const sku = z.string().trim().min(1).max(64);
const stock = z.number().int().min(0).max(1_000_000);
/** A price in minor units (cents, paise): 0 to 1,000,000.00. */
export const price = z.number().int().min(0).max(100_000_000);

export const newProduct = z.object({
  sku,
  name: z.string().trim().min(1).max(200),
  price,
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/, 'an ISO 4217 code such as USD')
    .transform((c) => c.toUpperCase()),
  stock,
  lowStockThreshold: z.number().int().min(0).max(1_000_000).optional(),
  vendorEmail: z.string().trim().email().max(200).optional(),
  description: z.string().max(5000).optional(),
  category: z.string().trim().max(100).optional(),
  imageUrl: z.string().url().max(2000).optional(),
  variants: z
    .array(z.object({ sku, name: z.string().trim().min(1).max(100), price: price.optional(), stock }))
    .max(100)
    .optional(),
});
export type NewProduct = z.input<typeof newProduct>;

/** Creates a product and its variants; opening stock is a RESTOCK row each. Audited. */
export async function createProduct(prisma: PrismaClient, input: NewProduct, actorId: string) {
  const { variants = [], ...fields } = newProduct.parse(input);
  const skus = [fields.sku, ...variants.map((v) => v.sku)];
  if (new Set(skus).size !== skus.length)
    throw new DomainError(ErrorCode.VALIDATION_ERROR, 'A variant repeats a SKU of this product', { skus });
  try {
    return await prisma.$transaction((tx) => insertProduct(tx, { ...fields, variants }, actorId, 'RESTOCK'));
  } catch (error) {
    if (isUniqueViolation(error))
      throw new DomainError(ErrorCode.SKU_EXISTS, `A product or variant with SKU ${skus.join(' or ')} exists`, {
        skus,
      });
    throw error;
  }
}

/** Inserts one product (refusing a SKU a variant already has) inside `tx`; a CSV import lands many at once instead (src/inventory/imports.ts). */
export async function insertProduct(
  tx: Transaction,
  input: z.output<typeof newProduct> & { variants: NonNullable<z.output<typeof newProduct>['variants']> },
  actorId: string,
  openingType: 'RESTOCK' | 'IMPORT',
  reference?: string,
) {
  const { variants, stock: openingStock, ...fields } = input;
  const skus = [fields.sku, ...variants.map((v) => v.sku)];
  const taken = [
    ...(await tx.product.findMany({ where: { sku: { in: skus } }, select: { sku: true } })),
    ...(await tx.productVariant.findMany({ where: { sku: { in: skus } }, select: { sku: true } })),
  ];
  if (taken.length > 0)
    throw new DomainError(ErrorCode.SKU_EXISTS, `SKU ${taken.map((t) => t.sku).join(', ')} exists already`, {
      skus: taken.map((t) => t.sku),
    });
  const product = await tx.product.create({ data: { id: randomUUID(), ...fields, stock: 0 } });
  const opening = { actor: actorId, reason: 'Opening stock', reference: reference ?? product.sku };
  if (openingStock > 0)
    await recordStockMovement(tx, {
      productId: product.id,
      type: openingType,
      stockDelta: openingStock,
      ...opening,
      idempotencyKey: `${openingType.toLowerCase()}:${product.id}:opening`,
    });
  for (const v of variants) {
    const variant = await tx.productVariant.create({
      data: { id: randomUUID(), productId: product.id, sku: v.sku, name: v.name, price: v.price, stock: 0 },
    });
    if (v.stock > 0)
      await recordStockMovement(tx, {
        productId: product.id,
        variantId: variant.id,
        type: openingType,
        stockDelta: v.stock,
        ...opening,
        idempotencyKey: `${openingType.toLowerCase()}:${variant.id}:opening`,
      });
  }
  await audit(tx, {
    actorId,
    action: 'PRODUCT_CREATED',
    targetType: 'product',
    targetId: product.id,
    reason: reference,
    after: { sku: product.sku, price: product.price, currency: product.currency, stock: openingStock, variants },
  });
  return tx.product.findUniqueOrThrow({ where: { id: product.id }, include: { variants: true } });
}

function stockView(stock: number, reserved: number) {
  const availableStock = stock - reserved;
  return {
    availableStock,
    /** Kept for existing clients: the same number as availableStock. */
    available: availableStock,
    inStock: availableStock > 0,
    stockMessage:
      availableStock === 0 ? 'Out of stock' : availableStock < FEW_LEFT ? `Only ${availableStock} left` : null,
  };
}

/** A product as the storefront shows it; a product with variants is available as its variants are. */
export function presentProduct(p: Product & { variants?: ProductVariant[] }) {
  const variants = (p.variants ?? []).map((v) => ({
    id: v.id,
    sku: v.sku,
    name: v.name,
    price: v.price ?? p.price,
    ...stockView(v.stock, v.reservedStock),
  }));
  const own = stockView(p.stock, p.reservedStock);
  const total = variants.length > 0 ? variants.reduce((sum, v) => sum + v.availableStock, 0) : own.availableStock;
  return {
    id: p.id,
    sku: p.sku,
    name: p.name,
    description: p.description,
    category: p.category,
    imageUrl: p.imageUrl,
    price: p.price,
    currency: p.currency,
    ...(variants.length > 0 ? stockView(total, 0) : own),
    variants,
  };
}

/** The admin's view: the storefront's plus stock on hand, reserved, threshold and vendor. */
export function presentProductForAdmin(p: Product & { variants?: ProductVariant[] }) {
  return {
    ...presentProduct(p),
    stock: p.stock,
    reservedStock: p.reservedStock,
    lowStockThreshold: p.lowStockThreshold,
    vendorEmail: p.vendorEmail,
  };
}

export const catalogueQuery = z.object({
  sku: z.string().trim().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().uuid().optional(),
});

/** A page of the catalogue by name (then id), or the products whose SKU (or a variant's) is `sku`. */
export async function listCatalogue(prisma: PrismaClient, query: z.output<typeof catalogueQuery>) {
  const where = query.sku ? { OR: [{ sku: query.sku }, { variants: { some: { sku: query.sku } } }] } : {};
  const rows = await prisma.product.findMany({
    where,
    include: { variants: { orderBy: { sku: 'asc' } } },
    orderBy: [{ name: 'asc' }, { id: 'asc' }],
    take: query.limit + 1,
    ...(query.cursor ? { cursor: { id: query.cursor }, skip: 1 } : {}),
  });
  const page = rows.slice(0, query.limit);
  return { products: page.map(presentProduct), nextCursor: rows.length > query.limit ? page.at(-1)!.id : null };
}

export async function findProduct(prisma: PrismaClient, id: string) {
  const product = await prisma.product.findUnique({
    where: { id },
    include: { variants: { orderBy: { sku: 'asc' } } },
  });
  if (!product) throw new DomainError(ErrorCode.PRODUCT_NOT_FOUND, `No product ${id}`);
  return product;
}
