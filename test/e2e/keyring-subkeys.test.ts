/**
 * Issue 13 point 7 (one master key, two uses), the keyring's part, against PostgreSQL: secrets
 * are sealed under the master key's `keyring` subkey and bound to their master key id, purpose
 * and kid, so a ciphertext moved onto another row, or a row relabelled, does not open; secrets
 * stored before (the master key itself, no AAD) still open, and `keys rewrap` moves them to the
 * new format once, audited (a second run moves nothing).
 */
import { createCipheriv, randomBytes, randomUUID } from 'node:crypto';
import { dropDatabase } from '../../scripts/lib/databases';
import { CIPHER_FORMAT, Keyring } from '../../src/keys/keyring';
import { rewrapKeyring } from '../../src/keys/rotations';
import { parseMasterKeys } from '../../src/platform/codec';
import { loadConfig } from '../../src/platform/config';
import { createPrisma, type PrismaClient } from '../../src/platform/db';
import { migratedScratchDatabase } from '../helpers/databases';

let databaseUrl: string;
let prisma: PrismaClient;
const config = {
  ...loadConfig(),
  MASTER_KEYS: `k-1:${randomBytes(32).toString('base64')},k-2:${randomBytes(32).toString('base64')}`,
  MASTER_KEY_ID: 'k-1',
};
const keyring = () => new Keyring(prisma, config);

beforeAll(async () => {
  databaseUrl = await migratedScratchDatabase('keyring');
  prisma = createPrisma(databaseUrl, 2);
});
afterAll(async () => {
  await prisma.$disconnect();
  await dropDatabase(databaseUrl);
});

/** A row as the keyring stored it before subkeys: sealed under the master key itself, no AAD, no format. */
async function storeOldFormat(purpose: 'STRIPE_API_KEY' | 'RAZORPAY_WEBHOOK_SECRET', version: number, secret: string) {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', parseMasterKeys(config).get('k-1')!, iv);
  const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  const kid = `${purpose.toLowerCase()}-${version}`;
  // Raw SQL, as the previous release wrote it: the column's default says how it was sealed.
  await prisma.$executeRaw`
    INSERT INTO secret_versions (id, purpose, version, kid, status, ciphertext, iv, auth_tag, master_key_id)
    VALUES (${randomUUID()}::uuid, ${purpose}, ${version}, ${kid}, 'RETIRED', ${ciphertext.toString('base64')},
            ${iv.toString('base64')}, ${cipher.getAuthTag().toString('base64')}, 'k-1')`;
  return kid;
}

test('new secrets are sealed in the new format; a ciphertext moved to another row or relabelled does not open', async () => {
  const a = await keyring().stage('STRIPE_WEBHOOK_SECRET', randomUUID(), 'whsec_first');
  const b = await keyring().stage('RAZORPAY_WEBHOOK_SECRET', randomUUID(), 'razorpay-second');
  const rowA = await prisma.secretVersion.findUniqueOrThrow({ where: { kid: a.kid } });
  const rowB = await prisma.secretVersion.findUniqueOrThrow({ where: { kid: b.kid } });
  expect([rowA.cipherFormat, rowB.cipherFormat]).toEqual([CIPHER_FORMAT, CIPHER_FORMAT]);
  expect(await keyring().secretOf(a.kid)).toBe('whsec_first');

  // B's sealed secret copied onto A's row (another purpose and kid): refused, not read as A's.
  await prisma.secretVersion.update({
    where: { kid: a.kid },
    data: { ciphertext: rowB.ciphertext, iv: rowB.iv, authTag: rowB.authTag },
  });
  await expect(keyring().secretOf(a.kid)).rejects.toThrow(/does not open under master key k-1/);
  await prisma.secretVersion.update({ where: { kid: a.kid }, data: rowA });

  // The row relabelled: another master key id (configured too), another purpose, another kid, the old format.
  for (const relabel of [
    { masterKeyId: 'k-2' },
    { purpose: 'JWT_SIGNING' },
    { kid: `${a.kid}-moved` },
    { cipherFormat: 1 },
  ]) {
    const moved = await prisma.secretVersion.update({ where: { id: rowA.id }, data: relabel });
    await expect(keyring().secretOf(moved.kid)).rejects.toThrow(/does not open/);
    await prisma.secretVersion.update({ where: { id: rowA.id }, data: rowA });
  }
  expect(await keyring().secretOf(a.kid)).toBe('whsec_first');
});

test('secrets stored the old way still open; rewrap moves each to the new format once, audited', async () => {
  const stripe = await storeOldFormat('STRIPE_API_KEY', 7, 'sk_live_old_format');
  const razorpay = await storeOldFormat('RAZORPAY_WEBHOOK_SECRET', 7, 'razorpay-old-format');
  expect(await keyring().legacyCount()).toBe(2);
  expect(await keyring().secretOf(stripe)).toBe('sk_live_old_format');

  const admin = await prisma.user.create({
    data: { id: randomUUID(), email: `${randomUUID()}@example.com`, name: 'Ops', role: 'ADMIN', passwordHash: 'x' },
  });
  const deps = { prisma, temporal: undefined as never, config };
  const moved = await rewrapKeyring(deps, 'upgrade to subkeys', admin.id);
  expect(moved.rewrapped).toEqual([
    { kid: razorpay, from: 'k-1', fromFormat: 1 },
    { kid: stripe, from: 'k-1', fromFormat: 1 },
  ]);
  expect(await keyring().legacyCount()).toBe(0);
  expect(await keyring().secretOf(stripe)).toBe('sk_live_old_format');
  expect(await keyring().secretOf(razorpay)).toBe('razorpay-old-format');
  const after = await prisma.secretVersion.findMany({ where: { kid: { in: [stripe, razorpay] } } });
  expect(after.map((row) => row.cipherFormat)).toEqual([CIPHER_FORMAT, CIPHER_FORMAT]);

  // Idempotent: nothing left to move, and every row exactly as it was.
  expect((await rewrapKeyring(deps, 'again', admin.id)).rewrapped).toEqual([]);
  expect(await prisma.secretVersion.findMany({ where: { kid: { in: [stripe, razorpay] } } })).toEqual(after);
  const audits = await prisma.auditLog.findMany({
    where: { action: 'KEYRING_REWRAPPED' },
    orderBy: { createdAt: 'asc' },
  });
  expect(audits).toMatchObject([
    { actorId: admin.id, reason: 'upgrade to subkeys', after: { rewrapped: moved.rewrapped } },
    { actorId: admin.id, reason: 'again', after: { rewrapped: [] } },
  ]);
  expect((await keyring().list()).filter((k) => [stripe, razorpay].includes(k.kid)).map((k) => k.cipherFormat)).toEqual(
    [CIPHER_FORMAT, CIPHER_FORMAT],
  );
});
