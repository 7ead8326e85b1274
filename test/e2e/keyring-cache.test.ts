/**
 * The keyring's copy (src/keys/keyring.ts, src/keys/keyring-changes.ts) against a real
 * PostgreSQL, in a database of its own: uses cost no query while nothing changes; a change made
 * by another Keyring (another process) or by hand-written SQL is seen through LISTEN/NOTIFY,
 * never by waiting for the TTL (those Keyrings' clocks stand still, so only a notification can
 * refresh them); a cached RETIRING version stops being accepted when its grace ends; without
 * listening the TTL bounds how stale a copy gets, and with its connection lost a listening
 * Keyring reads afresh on every use until it listens again.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { dropDatabase } from '../../scripts/lib/databases';
import { PrismaClient } from '../../src/generated/prisma/client';
import { KEYRING_LISTENER_NAME } from '../../src/keys/keyring-changes';
import { Keyring, type KeyringClock, type SecretPurpose } from '../../src/keys/keyring';
import { loadConfig } from '../../src/platform/config';
import { eventually } from '../helpers/stack';
import { migratedScratchDatabase } from '../helpers/databases';

const quiet = pino({ level: 'silent' });
let databaseUrl: string;
let prisma: PrismaClient;
/** Statements on secret_versions, as Prisma sent them (every Keyring here shares this client). */
const statements: string[] = [];
const keyrings: Keyring[] = [];
const config = () => ({ ...loadConfig({ ...process.env, DATABASE_URL: databaseUrl }), KEYRING_CACHE_TTL: 1000 });

/** A clock the test moves: wall time for graces, monotonic time for the copy's age. */
function handClock(): KeyringClock & { wall: number; mono: number } {
  return {
    wall: Date.now(),
    mono: 0,
    now() {
      return this.wall;
    },
    monotonic() {
      return this.mono;
    },
  };
}

/** A Keyring as a process holds one; `listenUrl` undefined means listening on DATABASE_URL. */
function keyring(clock: KeyringClock, options: { listenUrl?: string } = {}): Keyring {
  const made = new Keyring(prisma, { ...config(), KEYRING_LISTEN_URL: options.listenUrl }, { clock }).listen(quiet);
  keyrings.push(made);
  return made;
}

const listening = (k: Keyring) => eventually(async () => k.listenState === 'listening', 'keyring listening');

beforeAll(async () => {
  databaseUrl = await migratedScratchDatabase('keyring_cache');
  const logged = new PrismaClient({
    adapter: new PrismaPg({ connectionString: databaseUrl, max: 4 }),
    log: [{ emit: 'event', level: 'query' }],
  });
  logged.$on('query', (event) => {
    if (event.query.includes('secret_versions')) statements.push(event.query);
  });
  prisma = logged as unknown as PrismaClient;
});
afterAll(async () => {
  await Promise.all(keyrings.map((k) => k.close()));
  await prisma.$disconnect();
  await dropDatabase(databaseUrl);
});

/** Stages and promotes a new version of `purpose` through `by`, the old one RETIRING for `graceMs`. */
async function rotate(by: Keyring, purpose: SecretPurpose, value: string, graceMs: number | null = 60_000) {
  const { kid } = await by.stage(purpose, randomUUID(), value);
  const { retiringKid } = await by.promote(purpose, kid, graceMs);
  return { kid, retiringKid: retiringKid! };
}

test('uses cost no query while nothing changes; a change by another Keyring is seen through NOTIFY, not the TTL', async () => {
  // The configured first version, taken in before anyone listens: no notification is on its way.
  const first = await keyring(handClock(), { listenUrl: 'off' }).active('STRIPE_WEBHOOK_SECRET');
  expect(first.kid).toBe('stripe-webhook-secret-1');
  const reader = keyring(handClock()); // its copy never ages: only a notification refreshes it
  const writer = keyring(handClock());
  await Promise.all([listening(reader), listening(writer)]);
  expect(await reader.active('STRIPE_WEBHOOK_SECRET')).toEqual(first);
  const before = statements.length;
  const readsBefore = reader.reads;
  for (let i = 0; i < 50; i++) {
    expect(await reader.acceptedAll('STRIPE_WEBHOOK_SECRET')).toEqual([first]);
    expect(await reader.accepted('STRIPE_WEBHOOK_SECRET', first.kid)).toBe(first.secret);
    expect(await reader.accepted('STRIPE_WEBHOOK_SECRET', 'stripe-webhook-secret-99')).toBeUndefined();
  }
  expect([statements.length - before, reader.reads - readsBefore]).toEqual([0, 0]);

  const { kid } = await rotate(writer, 'STRIPE_WEBHOOK_SECRET', 'whsec_second');
  // The writer sees its own change at once (its clock stands still too: no TTL helps it).
  expect((await writer.active('STRIPE_WEBHOOK_SECRET')).kid).toBe(kid);
  // The reader, in another "process", as soon as the notification arrives.
  await eventually(async () => (await reader.active('STRIPE_WEBHOOK_SECRET')).kid === kid, 'reader sees the promotion');
  expect(await reader.acceptedAll('STRIPE_WEBHOOK_SECRET')).toEqual([
    { kid, secret: 'whsec_second' },
    first, // RETIRING, within its grace
  ]);
});

test('a row changed by hand-written SQL is seen through NOTIFY too', async () => {
  const reader = keyring(handClock());
  await listening(reader);
  const { kid, retiringKid } = await rotate(keyring(handClock()), 'RAZORPAY_WEBHOOK_SECRET', 'razorpay-second');
  await eventually(
    async () => (await reader.acceptedAll('RAZORPAY_WEBHOOK_SECRET')).length === 2,
    'reader sees both versions',
  );

  await prisma.$executeRaw`UPDATE secret_versions SET status = 'RETIRED', retired_at = now() WHERE kid = ${retiringKid}`;
  await eventually(
    async () => (await reader.accepted('RAZORPAY_WEBHOOK_SECRET', retiringKid)) === undefined,
    'reader sees the retirement',
  );
  expect((await reader.acceptedAll('RAZORPAY_WEBHOOK_SECRET')).map((s) => s.kid)).toEqual([kid]);
});

test('a cached RETIRING version stops being accepted when its grace ends, without a read', async () => {
  // Rotated before the reader listens: no notification is on its way to drop its copy.
  const { kid, retiringKid } = await rotate(
    keyring(handClock(), { listenUrl: 'off' }),
    'RAZORPAY_KEY',
    '{"keyId":"rzp_test_second","keySecret":"second"}',
  );
  const retiring = await prisma.secretVersion.findUniqueOrThrow({ where: { kid: retiringKid } });
  const clock = handClock();
  const reader = keyring(clock);
  await listening(reader);
  expect((await reader.active('RAZORPAY_KEY')).kid).toBe(kid);

  const reads = reader.reads;
  clock.wall = retiring.retiringUntil!.getTime() - 1;
  expect(await reader.accepted('RAZORPAY_KEY', retiringKid)).toBeDefined();
  clock.wall = retiring.retiringUntil!.getTime();
  expect(await reader.accepted('RAZORPAY_KEY', retiringKid)).toBeUndefined();
  expect((await reader.acceptedAll('RAZORPAY_KEY')).map((s) => s.kid)).toEqual([kid]);
  expect(reader.reads).toBe(reads); // judged on the copy, at the time of use
});

test('not listening, a copy is used until it is KEYRING_CACHE_TTL old, then read again', async () => {
  const clock = handClock();
  const reader = keyring(clock, { listenUrl: 'off' });
  expect(reader.listenState).toBe('off');
  const first = await reader.active('STRIPE_API_KEY');
  const readAt = clock.mono;
  const { kid } = await rotate(keyring(handClock(), { listenUrl: 'off' }), 'STRIPE_API_KEY', 'sk_test_second');

  clock.mono = readAt + 999; // the TTL is 1000 ms: the copy may still be used
  expect((await reader.active('STRIPE_API_KEY')).kid).toBe(first.kid);
  clock.mono = readAt + 1000;
  expect((await reader.active('STRIPE_API_KEY')).kid).toBe(kid);
});

test('with its listening connection lost, a Keyring reads on every use until it listens again', async () => {
  // A login of its own for this listener, so the test can keep it from coming back.
  const role = `keyring_listener_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    const password = randomUUID();
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    const listenUrl = new URL(databaseUrl);
    listenUrl.username = role;
    listenUrl.password = password;
    listenUrl.searchParams.set('application_name', `${KEYRING_LISTENER_NAME} ${role}`);
    const reader = keyring(handClock(), { listenUrl: listenUrl.toString() });
    await listening(reader);
    const writer = keyring(handClock(), { listenUrl: 'off' });
    const first = await reader.active('JWT_SIGNING');

    await admin.query(`ALTER ROLE ${role} NOLOGIN`);
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND datname = current_database()`,
      [role],
    );
    await eventually(async () => reader.listenState === 'lost', 'listener lost');
    // No notification can arrive now and the copy never ages: still, each use reads.
    const { kid } = await rotate(writer, 'JWT_SIGNING', 'a-new-jwt-secret-of-enough-length');
    expect((await reader.active('JWT_SIGNING')).kid).toBe(kid);
    const reads = reader.reads;
    await reader.active('JWT_SIGNING');
    expect(reader.reads).toBe(reads + 1);
    expect(await reader.accepted('JWT_SIGNING', first.kid)).toBe(first.secret);

    await admin.query(`ALTER ROLE ${role} LOGIN`);
    await listening(reader);
    await reader.active('JWT_SIGNING');
    const again = reader.reads;
    await reader.active('JWT_SIGNING');
    expect(reader.reads).toBe(again); // copying again
  } finally {
    await Promise.all(keyrings.map((k) => k.close()));
    await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
    await admin.end();
  }
});
