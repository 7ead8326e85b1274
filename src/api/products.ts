import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { isUniqueViolation, type PrismaClient } from '../platform/db';
import { authenticate, currentUser, requireRole } from './auth';
import type { ApiDeps } from './deps';
import { HttpError, parse } from './errors';
import { audit } from '../access/audit';

/** Below this many available units the catalogue says "Only N left". */
const FEW_LEFT = 5;

export const newProduct = z.object({
  sku: z.string().trim().min(1).max(64),
  name: z.string().trim().min(1).max(200),
  price: z.number().int().min(0).max(100_000_000),
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/, 'an ISO 4217 code such as USD')
    .transform((c) => c.toUpperCase()),
  stock: z.number().int().min(0).max(1_000_000),
  lowStockThreshold: z.number().int().min(0).max(1_000_000).optional(),
});
export type NewProduct = z.infer<typeof newProduct>;

/** Creates a product; its opening stock is a RESTOCK in the ledger, so ledger and stock always agree. */
export async function createProduct(prisma: PrismaClient, input: NewProduct, actorId: string) {
  return prisma.$transaction(async (tx) => {
    const product = await tx.product.create({ data: { id: randomUUID(), ...input } });
    if (input.stock > 0) {
      await tx.inventoryLedger.create({
        data: {
          id: randomUUID(),
          productId: product.id,
          type: 'RESTOCK',
          quantity: input.stock,
          previousStock: 0,
          newStock: input.stock,
          previousReserved: 0,
          newReserved: 0,
          reason: 'Opening stock',
          actor: actorId,
          reference: product.sku,
          idempotencyKey: `restock:${product.id}:opening`,
        },
      });
    }
    // Seeding stocks the shop as the seed admin; every product creation is an admin action.
    await audit(tx, {
      actorId,
      action: 'PRODUCT_CREATED',
      targetType: 'product',
      targetId: product.id,
      after: { sku: product.sku, price: product.price, currency: product.currency, stock: product.stock },
    });
    return product;
  });
}

function present(p: {
  id: string;
  sku: string;
  name: string;
  price: number;
  currency: string;
  stock: number;
  reservedStock: number;
  lowStockThreshold: number;
}) {
  const available = p.stock - p.reservedStock;
  return {
    id: p.id,
    sku: p.sku,
    name: p.name,
    price: p.price,
    currency: p.currency,
    available,
    inStock: available > 0,
    stockMessage: available === 0 ? 'Out of stock' : available < FEW_LEFT ? `Only ${available} left` : null,
  };
}

export function productsRouter(deps: ApiDeps): Router {
  const { prisma } = deps;
  const router = Router();

  router.get('/api/products', async (_req, res) => {
    const products = await prisma.product.findMany({ orderBy: { name: 'asc' } });
    res.json({ products: products.map(present) });
  });

  router.post('/admin/products', authenticate(deps), requireRole('ADMIN'), async (req, res) => {
    const input = parse(newProduct, req.body);
    try {
      const product = await createProduct(prisma, input, currentUser(req).id);
      res.status(201).json({ ...present(product), stock: product.stock, lowStockThreshold: product.lowStockThreshold });
    } catch (error) {
      if (isUniqueViolation(error))
        throw new HttpError(409, 'SKU_EXISTS', `A product with SKU ${input.sku} already exists`);
      throw error;
    }
  });

  return router;
}
