/**
 * Creates the seeded admin and customer and a few products, through the catalogue's own
 * createProduct (audited, ledger OPENING rows) and the accounts' password hashing. Idempotent:
 * re-running changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { loadConfig, type Config } from '../src/platform/config';
import { createProduct } from '../src/inventory/catalogue';
import { hashPassword } from '../src/access/passwords';
import { createPrisma, type PrismaClient } from '../src/platform/db';

export const seedProducts = [
  { sku: 'RICE-5KG', name: 'Basmati rice 5 kg', price: 1899, currency: 'USD', stock: 40, lowStockThreshold: 5 },
  {
    sku: 'OIL-1L',
    name: 'Cold-pressed groundnut oil 1 l',
    price: 899,
    currency: 'USD',
    stock: 25,
    lowStockThreshold: 5,
  },
  { sku: 'SAREE-SILK', name: 'Handwoven silk saree', price: 12900, currency: 'USD', stock: 4, lowStockThreshold: 2 },
];

export async function seed(prisma: PrismaClient, config: Config): Promise<void> {
  const users = [
    {
      email: config.SEED_ADMIN_EMAIL,
      password: config.SEED_ADMIN_PASSWORD,
      name: 'Shop admin',
      role: 'ADMIN' as const,
    },
    {
      email: config.SEED_CUSTOMER_EMAIL,
      password: config.SEED_CUSTOMER_PASSWORD,
      name: 'Demo customer',
      role: 'CUSTOMER' as const,
    },
  ];
  for (const user of users) {
    const existing = await prisma.user.findUnique({ where: { email: user.email } });
    if (existing) continue;
    await prisma.user.create({
      data: {
        id: randomUUID(),
        email: user.email,
        name: user.name,
        role: user.role,
        passwordHash: await hashPassword(user.password),
      },
    });
  }
  const admin = await prisma.user.findUniqueOrThrow({ where: { email: config.SEED_ADMIN_EMAIL } });
  for (const product of seedProducts) {
    if (await prisma.product.findUnique({ where: { sku: product.sku } })) continue;
    await createProduct(prisma, product, admin.id);
  }
}

if (require.main === module) {
  const config = loadConfig();
  const prisma = createPrisma(config.DATABASE_URL, 2);
  seed(prisma, config)
    .then(() => console.log('seeded'))
    .catch((error) => {
      console.error(error);
      process.exitCode = 1;
    })
    .finally(() => prisma.$disconnect());
}
