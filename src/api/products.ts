/** HTTP for the catalogue: the storefront's reads and the admin's product creation (src/inventory/catalogue). */
import { Router } from 'express';
import { z } from 'zod';
import { authenticate, currentUser, requireRole } from './auth';
import type { ApiDeps } from './deps';
import { parse } from './errors';
import {
  catalogueQuery,
  createProduct,
  findProduct,
  listCatalogue,
  newProduct,
  presentProductForAdmin,
  presentProduct,
} from '../inventory/catalogue';

export const productParams = z.object({ id: z.string().uuid() });

export function productsRouter(deps: ApiDeps): Router {
  const { prisma } = deps;
  const router = Router();

  router.get('/api/products', async (req, res) => {
    res.json(await listCatalogue(prisma, parse(catalogueQuery, req.query)));
  });

  router.get('/api/products/:id', async (req, res) => {
    res.json(presentProduct(await findProduct(prisma, parse(productParams, req.params).id)));
  });

  router.post('/admin/products', authenticate(deps), requireRole('ADMIN'), async (req, res) => {
    const product = await createProduct(prisma, parse(newProduct, req.body), currentUser(req).id);
    res.status(201).json(presentProductForAdmin(product));
  });

  return router;
}
