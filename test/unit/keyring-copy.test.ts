/**
 * The keyring's copy of what it reads (src/keys/keyring.ts), over a stubbed secret_versions
 * table (test/e2e/keyring-cache.test.ts has the real PostgreSQL and its notifications): uses at
 * once share one read; a read in flight when a change is heard, or one that failed, is not kept;
 * every write drops the copy; a version that does not open fails only its own use.
 */
import { randomUUID } from 'node:crypto';
import { Keyring, type KeyringClock } from '../../src/keys/keyring';
import { sealSecret } from '../../src/keys/sealed-secrets';
import { parseMasterKeys } from '../../src/platform/codec';
import { loadConfig } from '../../src/platform/config';
import type { PrismaClient } from '../../src/platform/db';
import { Subkeys } from '../../src/platform/subkeys';
import type { SecretVersion } from '../../src/generated/prisma/client';

const config = { ...loadConfig({}), KEYRING_CACHE_TTL: 1000 };
const subkeys = new Subkeys(parseMasterKeys(config));
const clock: KeyringClock = { now: () => Date.now(), monotonic: () => 0 }; // copies never age here

function version(kid: string, status: SecretVersion['status'], secret: string, version = 1): SecretVersion {
  return {
    id: randomUUID(),
    purpose: 'STRIPE_WEBHOOK_SECRET',
    version,
    kid,
    status,
    createdAt: new Date(),
    activatedAt: null,
    retiringUntil: null,
    retiredAt: null,
    ...sealSecret(subkeys, config.MASTER_KEY_ID, { purpose: 'STRIPE_WEBHOOK_SECRET', kid }, secret),
  };
}

/** secret_versions as a list; each findMany answers when the test says so (or at once). */
function table(rows: SecretVersion[]) {
  const pending: (() => void)[] = [];
  let hold = false;
  const stub = {
    reads: 0,
    hold(on: boolean) {
      hold = on;
      if (!on) pending.splice(0).forEach((answer) => answer());
    },
    fail: undefined as Error | undefined,
    secretVersion: {
      count: async () => rows.length,
      findMany: (query: { where: { status: { in: string[] } } }) => {
        stub.reads += 1;
        const answer = () => {
          if (stub.fail) throw stub.fail;
          return rows
            .filter((r) => query.where.status.in.includes(r.status))
            .sort((a, b) => b.version - a.version)
            .map((r) => ({ ...r }));
        };
        if (!hold) return Promise.resolve().then(answer);
        return new Promise((resolve, reject) =>
          pending.push(() => {
            try {
              resolve(answer());
            } catch (error) {
              reject(error);
            }
          }),
        );
      },
      updateMany: async ({ where, data }: { where: { kid: string }; data: Partial<SecretVersion> }) => {
        rows.filter((r) => r.kid === where.kid).forEach((r) => Object.assign(r, data));
        return { count: 1 };
      },
    },
  };
  return stub;
}
const keyringOver = (stub: ReturnType<typeof table>) => new Keyring(stub as unknown as PrismaClient, config, { clock });

test('uses at once share one read, and later ones use the copy', async () => {
  const stub = table([version('stripe-webhook-secret-1', 'ACTIVE', 'whsec_one')]);
  const keyring = keyringOver(stub);
  stub.hold(true);
  const uses = Promise.all(Array.from({ length: 20 }, () => keyring.acceptedAll('STRIPE_WEBHOOK_SECRET')));
  await new Promise((resolve) => setImmediate(resolve));
  stub.hold(false);
  expect((await uses).every((s) => s[0].secret === 'whsec_one')).toBe(true);
  await keyring.active('STRIPE_WEBHOOK_SECRET');
  expect([stub.reads, keyring.reads]).toEqual([1, 1]);
});

test('a read in flight when a change is heard is not kept; a failed read is not kept', async () => {
  const rows = [version('stripe-webhook-secret-1', 'ACTIVE', 'whsec_one')];
  const stub = table(rows);
  const keyring = keyringOver(stub);
  stub.hold(true);
  const inFlight = keyring.active('STRIPE_WEBHOOK_SECRET');
  await new Promise((resolve) => setImmediate(resolve));
  keyring.forget(); // a notification arrives while the read is under way
  stub.hold(false);
  await inFlight;
  await keyring.active('STRIPE_WEBHOOK_SECRET');
  expect(stub.reads).toBe(2);

  keyring.forget();
  stub.fail = new Error("Can't reach database server");
  await expect(keyring.active('STRIPE_WEBHOOK_SECRET')).rejects.toThrow(/reach database/);
  stub.fail = undefined;
  expect((await keyring.active('STRIPE_WEBHOOK_SECRET')).secret).toBe('whsec_one');
  expect(stub.reads).toBe(4);
});

test('a write through the keyring drops its copy at once', async () => {
  const rows = [
    version('stripe-webhook-secret-2', 'ACTIVE', 'whsec_two', 2),
    { ...version('stripe-webhook-secret-1', 'RETIRING', 'whsec_one'), retiringUntil: null },
  ];
  const stub = table(rows);
  const keyring = keyringOver(stub);
  expect((await keyring.acceptedAll('STRIPE_WEBHOOK_SECRET')).map((s) => s.kid)).toEqual([
    'stripe-webhook-secret-2',
    'stripe-webhook-secret-1',
  ]);
  await keyring.retire('stripe-webhook-secret-1');
  expect(await keyring.accepted('STRIPE_WEBHOOK_SECRET', 'stripe-webhook-secret-1')).toBeUndefined();
  expect(stub.reads).toBe(2);
});

test('a version that does not open fails only the uses that need it', async () => {
  const broken = {
    ...version('stripe-webhook-secret-1', 'RETIRING', 'whsec_one'),
    authTag: 'AAAAAAAAAAAAAAAAAAAAAA==',
  };
  const stub = table([version('stripe-webhook-secret-2', 'ACTIVE', 'whsec_two', 2), broken]);
  const keyring = keyringOver(stub);
  expect((await keyring.active('STRIPE_WEBHOOK_SECRET')).secret).toBe('whsec_two');
  expect(await keyring.accepted('STRIPE_WEBHOOK_SECRET', 'stripe-webhook-secret-2')).toBe('whsec_two');
  await expect(keyring.accepted('STRIPE_WEBHOOK_SECRET', 'stripe-webhook-secret-1')).rejects.toThrow(/does not open/);
  await expect(keyring.acceptedAll('STRIPE_WEBHOOK_SECRET')).rejects.toThrow(/does not open/);
  expect(stub.reads).toBe(1);
});
