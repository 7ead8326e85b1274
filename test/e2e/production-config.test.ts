/**
 * Issue 13 point 4: the public local defaults of secrets must never become production secrets.
 * The real entry points (API and worker) are started as processes with NODE_ENV=production: they
 * refuse while any secret or master key has its local default, naming each variable; and a
 * production keyring never takes a local default in, even when handed one directly.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { loadConfig, localDefaults } from '../../src/platform/config';
import { Keyring } from '../../src/keys/keyring';
import { createPrisma } from '../../src/platform/db';
import { dropDatabase } from '../../scripts/lib/databases';
import { spawn } from 'node:child_process';
import { migratedScratchDatabase } from '../helpers/databases';

const root = path.join(__dirname, '..', '..');
const secretNames = Object.keys(localDefaults) as (keyof typeof localDefaults)[];

/** The test's environment without any secret, so every one falls back to its local default. */
function withoutSecrets(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'info', PORT: '0' };
  for (const name of [...secretNames, 'MASTER_KEY_ID']) delete env[name];
  return env;
}

/** Production values of our own for every secret. */
function ownSecrets(): Record<string, string> {
  return {
    STRIPE_SECRET_KEY: `sk_live_${randomUUID()}`,
    STRIPE_WEBHOOK_SECRET: `whsec_${randomUUID()}`,
    RAZORPAY_KEY_ID: `rzp_live_${randomUUID().slice(0, 8)}`,
    RAZORPAY_KEY_SECRET: randomUUID(),
    RAZORPAY_WEBHOOK_SECRET: randomUUID(),
    JWT_SECRET: randomBytes(32).toString('base64'),
    MASTER_KEYS: `prod-1:${randomBytes(32).toString('base64')}`,
    MASTER_KEY_ID: 'prod-1',
  };
}

function run(entry: string, env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(root, entry)],
      { env, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

describe.each(['src/api/main.ts', 'src/workers/main.ts'])('%s with NODE_ENV=production', (entry) => {
  test('refuses to start with every local default, naming each variable', async () => {
    const { code, output } = await run(entry, withoutSecrets());
    expect(code).toBe(1);
    expect(output).toContain('Refusing to start with NODE_ENV=production');
    for (const name of secretNames) expect(output).toContain(name);
  });

  test('names only the variable still at its default', async () => {
    const { code, output } = await run(entry, {
      ...withoutSecrets(),
      ...ownSecrets(),
      STRIPE_WEBHOOK_SECRET: localDefaults.STRIPE_WEBHOOK_SECRET,
    });
    expect(code).toBe(1);
    expect(output).toMatch(/STRIPE_WEBHOOK_SECRET has the public local default/);
    for (const name of secretNames.filter((n) => n !== 'STRIPE_WEBHOOK_SECRET')) expect(output).not.toContain(name);
  });

  test('the local master key under another id is refused too', async () => {
    const material = localDefaults.MASTER_KEYS.split(':')[1];
    const { code, output } = await run(entry, {
      ...withoutSecrets(),
      ...ownSecrets(),
      MASTER_KEYS: `prod-1:${material}`,
    });
    expect(code).toBe(1);
    expect(output).toMatch(/MASTER_KEYS has the public local default/);
  });
});

describe('with secrets of its own', () => {
  let databaseUrl: string;
  beforeAll(async () => {
    databaseUrl = await migratedScratchDatabase('prod');
  });
  afterAll(() => dropDatabase(databaseUrl));

  test('the API starts in production', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/api/main.ts')], {
      env: { ...withoutSecrets(), ...ownSecrets(), DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`API exited with ${code}`)));
      child.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('API listening')) resolve();
      });
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  test('a production keyring never takes a local default in, and stores nothing', async () => {
    const prisma = createPrisma(databaseUrl, 2);
    try {
      const config = { ...loadConfig({ ...process.env, ...ownSecrets() }), NODE_ENV: 'production' };
      const keyring = new Keyring(prisma, { ...config, JWT_SECRET: localDefaults.JWT_SECRET });
      await expect(keyring.active('JWT_SIGNING')).rejects.toThrow(
        /public local default of JWT_SECRET into the keyring in production/,
      );
      const razorpay = new Keyring(prisma, { ...config, RAZORPAY_KEY_SECRET: localDefaults.RAZORPAY_KEY_SECRET });
      await expect(razorpay.active('RAZORPAY_KEY')).rejects.toThrow(/RAZORPAY_KEY_SECRET/);
      expect(await prisma.secretVersion.count()).toBe(0);
      expect(() => new Keyring(prisma, { ...config, MASTER_KEYS: localDefaults.MASTER_KEYS })).toThrow(/MASTER_KEYS/);
      // Its own value is taken in as usual.
      expect((await keyring.active('STRIPE_WEBHOOK_SECRET')).secret).toBe(config.STRIPE_WEBHOOK_SECRET);
    } finally {
      await prisma.$disconnect();
    }
  });
});
