/**
 * The keyring: versioned secrets per purpose, each STAGED, ACTIVE, RETIRING (still accepted
 * until its grace ends) or RETIRED, encrypted at rest with AES-256-GCM under a master key whose
 * id is stored with every ciphertext, so master keys can rotate too. Secrets leave this module
 * only to the code that uses them; never into logs or Temporal history.
 *
 * The first version of each provider secret (and of the JWT key) is the value configured in the
 * environment, taken in on first use; from then on the keyring is the source of truth and the
 * environment value is ignored. The database password has no first version: until its first
 * rotation the processes use DATABASE_URL's credentials.
 *
 * Secrets are sealed under the master key's `keyring` subkey (HKDF, src/platform/subkeys.ts), not
 * the master key itself (which also protects Temporal payloads), and bound (AAD) to their master
 * key id, purpose and kid: a ciphertext copied onto another row does not open. Each row's
 * `cipher_format` says how it was sealed: 1 (before issue 13: the master key, no AAD), still read,
 * and moved to 2 by rewrap() (`npm run ops -- keys rewrap`).
 *
 * Each Keyring keeps a copy of what it reads for signing, calling and verifying (active(),
 * activeIfAny(), accepted(), acceptedAll()): per purpose, the ACTIVE and RETIRING versions, each
 * decrypted once on first use, so a request or a provider call costs no query and no decryption.
 * Whether a RETIRING version is still accepted (its grace) is judged at every use, never when the
 * copy was made. The copy is dropped, and so a change is seen:
 * - at once by the Keyring that makes it (stage, promote, startGrace, retire, rewrap, a first
 *   version taken in): its next use reads again;
 * - by every other Keyring that listen() was called on, as soon as PostgreSQL's notification
 *   arrives, milliseconds after the commit (src/keys/keyring-changes.ts: a trigger on
 *   secret_versions notifies for every change, hand-written SQL included). While its listening
 *   connection is down or not yet up, a listening Keyring keeps no copy and reads on every use;
 * - in any case, listening or not (KEYRING_LISTEN_URL=off, a pooler in the way), within
 *   KEYRING_CACHE_TTL of the commit: a copy is used only while its read began less than the TTL
 *   ago, so a use that starts TTL after a commit reads a snapshot that has it.
 * describe(), secretOf(), list() and the writes always read the database. The copy's bookkeeping
 * is in ./keyring-copy.ts, the purposes' first versions in ./first-versions.ts.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { parseMasterKeys } from '../platform/codec';
import { Subkeys } from '../platform/subkeys';
import { CIPHER_FORMAT, openSecret, sealSecret, type SealedFor } from './sealed-secrets';
import { isLocalDefault, type Config } from '../platform/config';
import { isUniqueViolation, type PrismaClient } from '../platform/db';
import type { Logger } from '../platform/logger';
import { keyringListenUrl, type ListenState } from './keyring-changes';
import { HeldVersion, KeyringCopy, systemClock, type KeyringClock } from './keyring-copy';
import { firstVersion, kidPrefix, localDefaultsOf, type FirstVersionConfig } from './first-versions';
import type { SecretVersion } from '../generated/prisma/client';
import { keyPurposes, type KeyPurpose } from '../workflows/vocabulary';

export { CIPHER_FORMAT } from './sealed-secrets';
export type { KeyringClock } from './keyring-copy';
export const secretPurposes = keyPurposes;
export type SecretPurpose = KeyPurpose;
export const JWT_SIGNING: SecretPurpose = 'JWT_SIGNING';

/** A Razorpay key is a pair; the keyring stores it as JSON. */
export interface RazorpayKey {
  keyId: string;
  keySecret: string;
}
/** The database login in use: one of the two alternating roles and its password, stored as JSON. */
export interface DatabaseLogin {
  user: string;
  password: string;
}

export type KeyringConfig = FirstVersionConfig &
  Pick<
    Config,
    'NODE_ENV' | 'MASTER_KEYS' | 'MASTER_KEY_ID' | 'KEYRING_CACHE_TTL' | 'DATABASE_URL' | 'KEYRING_LISTEN_URL'
  >;

export interface Secret {
  kid: string;
  secret: string;
}

export class Keyring {
  private readonly subkeys: Subkeys;
  private readonly bootstrapped = new Map<SecretPurpose, Promise<void>>();
  private readonly clock: KeyringClock;
  private readonly copy: KeyringCopy;
  private readCount = 0;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly config: KeyringConfig,
    options: { clock?: KeyringClock } = {},
  ) {
    if (config.NODE_ENV === 'production' && isLocalDefault('MASTER_KEYS', config.MASTER_KEYS))
      throw new Error('refusing the public local master key (MASTER_KEYS) in production');
    this.subkeys = new Subkeys(parseMasterKeys(config));
    this.clock = options.clock ?? systemClock;
    this.copy = new KeyringCopy(config.KEYRING_CACHE_TTL, this.clock);
  }

  /**
   * Listens for changes made elsewhere (KEYRING_LISTEN_URL, else DATABASE_URL; nothing when `off`)
   * and drops the copy on each. A process's long-lived Keyrings call this once; close() stops it.
   */
  listen(logger: Pick<Logger, 'warn' | 'info'>): this {
    const url = keyringListenUrl(this.config);
    if (url) this.copy.listen(url, logger);
    return this;
  }

  /** `off` when not listening (a copy lives for the TTL), else the listener's state. */
  get listenState(): ListenState | 'off' {
    return this.copy.listenState;
  }

  /** Stops listening (the process or test is shutting down); the copy is then kept for the TTL only. */
  async close(): Promise<void> {
    await this.copy.close();
  }

  /** How many times active(), accepted() and the like read the database (for tests and measurement). */
  get reads(): number {
    return this.readCount;
  }

  /** Drops the copy: the next use reads again, and a read in flight now is not kept. */
  forget(): void {
    this.copy.forget();
  }

  /** `purpose`'s ACTIVE and RETIRING versions, newest first: the copy while it is fresh, else read now. */
  private async held(purpose: SecretPurpose): Promise<HeldVersion[]> {
    await this.bootstrap(purpose);
    return this.copy.held(purpose, () => this.read(purpose));
  }

  private async read(purpose: SecretPurpose): Promise<HeldVersion[]> {
    this.readCount += 1;
    const rows = await this.prisma.secretVersion.findMany({
      where: { purpose, status: { in: ['ACTIVE', 'RETIRING'] } },
      orderBy: { version: 'desc' },
    });
    return rows.map((row) => new HeldVersion(row, (r) => this.decrypt(r)));
  }

  private isAccepted(row: SecretVersion): boolean {
    return isAccepted(row, this.clock.now());
  }

  private encrypt(secret: string, place: SealedFor) {
    return sealSecret(this.subkeys, this.config.MASTER_KEY_ID, place, secret);
  }

  private decrypt(row: SecretVersion): string {
    return openSecret(this.subkeys, row);
  }

  /** Takes in the configured first version of `purpose` when the keyring has none (once per process). */
  private bootstrap(purpose: SecretPurpose): Promise<void> {
    let done = this.bootstrapped.get(purpose);
    if (!done) {
      done = this.takeInFirstVersion(purpose).catch((error: unknown) => {
        this.bootstrapped.delete(purpose); // try again next time
        throw error;
      });
      this.bootstrapped.set(purpose, done);
    }
    return done;
  }

  private async takeInFirstVersion(purpose: SecretPurpose): Promise<void> {
    const first = firstVersion(this.config, purpose);
    if (!first || (await this.prisma.secretVersion.count({ where: { purpose } }))) return;
    // A public local value taken in once would be the production secret for good: never in production.
    const atDefault = localDefaultsOf(this.config, purpose);
    if (this.config.NODE_ENV === 'production' && atDefault.length)
      throw new Error(
        `refusing to take the public local default of ${atDefault.join(', ')} into the keyring in production`,
      );
    try {
      await this.copy.changing(() =>
        this.prisma.secretVersion.create({
          data: {
            id: randomUUID(),
            purpose,
            version: 1,
            kid: first.kid,
            status: 'ACTIVE',
            activatedAt: new Date(),
            ...this.encrypt(first.secret, { purpose, kid: first.kid }),
          },
        }),
      );
    } catch (error) {
      if (!isUniqueViolation(error)) throw error; // another process took it in first
    }
  }

  /** The ACTIVE version: what signs, calls and connects from now on. */
  async active(purpose: SecretPurpose): Promise<Secret> {
    const active = await this.activeIfAny(purpose);
    if (!active) throw new Error(`the keyring has no active ${purpose}`);
    return active;
  }

  /** Like active(), for a purpose that may have no version yet (the database password). */
  async activeIfAny(purpose: SecretPurpose): Promise<Secret | undefined> {
    const held = (await this.held(purpose)).find((v) => v.row.status === 'ACTIVE');
    return held ? { kid: held.row.kid, secret: held.secret } : undefined;
  }

  /** The secret for `kid` if it may still be used to verify: ACTIVE, or RETIRING within its grace (judged now). */
  async accepted(purpose: SecretPurpose, kid: string): Promise<string | undefined> {
    const held = (await this.held(purpose)).find((v) => v.row.kid === kid);
    return held && this.isAccepted(held.row) ? held.secret : undefined;
  }

  /** Every version that may still be used to verify (webhook signatures): the ACTIVE one first. */
  async acceptedAll(purpose: SecretPurpose): Promise<Secret[]> {
    return (await this.held(purpose))
      .filter((v) => this.isAccepted(v.row))
      .sort((a, b) => Number(b.row.status === 'ACTIVE') - Number(a.row.status === 'ACTIVE'))
      .map((v) => ({ kid: v.row.kid, secret: v.secret }));
  }

  /**
   * Stages a new version (a random one when no value is given) and answers its kid, never the
   * secret. The caller chooses the version's id, so a retried stage finds its own version.
   */
  async stage(purpose: SecretPurpose, versionId: string, value?: string): Promise<{ kid: string; version: number }> {
    return this.copy.changing(() => this.stageVersion(purpose, versionId, value));
  }

  private async stageVersion(
    purpose: SecretPurpose,
    versionId: string,
    value?: string,
  ): Promise<{ kid: string; version: number }> {
    const existing = await this.prisma.secretVersion.findUnique({ where: { id: versionId } });
    if (existing) return { kid: existing.kid, version: existing.version };
    await this.bootstrap(purpose);
    for (;;) {
      const latest = await this.prisma.secretVersion.findFirst({ where: { purpose }, orderBy: { version: 'desc' } });
      const version = (latest?.version ?? 0) + 1;
      const kid = `${kidPrefix[purpose]}-${version}`;
      try {
        await this.prisma.secretVersion.create({
          data: {
            id: versionId,
            purpose,
            version,
            kid,
            status: 'STAGED',
            ...this.encrypt(value ?? randomBytes(64).toString('base64url'), { purpose, kid }),
          },
        });
        return { kid, version };
      } catch (error) {
        if (!isUniqueViolation(error)) throw error; // a concurrent stage took this version number: take the next
        const mine = await this.prisma.secretVersion.findUnique({ where: { id: versionId } });
        if (mine) return { kid: mine.kid, version: mine.version };
      }
    }
  }

  /** Any version's secret, by kid (verification of a STAGED version). */
  async secretOf(kid: string): Promise<string> {
    return this.decrypt(await this.prisma.secretVersion.findUniqueOrThrow({ where: { kid } }));
  }

  /** Status and purpose of a version, no secret. */
  async describe(kid: string): Promise<{ purpose: string; status: SecretVersion['status'] } | undefined> {
    const row = await this.prisma.secretVersion.findUnique({ where: { kid }, select: { purpose: true, status: true } });
    return row ?? undefined;
  }

  /**
   * Makes `kid` ACTIVE; the previous ACTIVE version becomes RETIRING, accepted until `graceMs`
   * from now, or until startGrace() when `graceMs` is null (the provider still uses it).
   */
  async promote(
    purpose: SecretPurpose,
    kid: string,
    graceMs: number | null,
  ): Promise<{ retiringKid?: string; retiringUntil?: string }> {
    return this.copy.changing(() => this.promoteVersion(purpose, kid, graceMs));
  }

  private promoteVersion(
    purpose: SecretPurpose,
    kid: string,
    graceMs: number | null,
  ): Promise<{ retiringKid?: string; retiringUntil?: string }> {
    return this.prisma.$transaction(async (tx) => {
      const target = await tx.secretVersion.findUniqueOrThrow({ where: { kid } });
      if (target.status === 'ACTIVE') {
        // Promoted already (a retried activity): answer what the first promotion did.
        const retiring = await tx.secretVersion.findFirst({
          where: { purpose, status: 'RETIRING' },
          orderBy: { version: 'desc' },
        });
        return { retiringKid: retiring?.kid, retiringUntil: retiring?.retiringUntil?.toISOString() };
      }
      if (target.status !== 'STAGED')
        throw new Error(`${kid} is ${target.status}; only a STAGED version can be promoted`);
      const retiringUntil = graceMs === null ? null : new Date(Date.now() + graceMs);
      const previous = await tx.secretVersion.findFirst({ where: { purpose, status: 'ACTIVE' } });
      if (previous)
        await tx.secretVersion.update({ where: { id: previous.id }, data: { status: 'RETIRING', retiringUntil } });
      await tx.secretVersion.update({ where: { kid }, data: { status: 'ACTIVE', activatedAt: new Date() } });
      return { retiringKid: previous?.kid, retiringUntil: retiringUntil?.toISOString() };
    });
  }

  /** Starts the grace of a RETIRING version held open by promote(…, null); answers its end. */
  async startGrace(kid: string, graceMs: number): Promise<{ retiringUntil: string }> {
    await this.copy.changing(() =>
      this.prisma.secretVersion.updateMany({
        where: { kid, status: 'RETIRING', retiringUntil: null },
        data: { retiringUntil: new Date(Date.now() + graceMs) },
      }),
    );
    const row = await this.prisma.secretVersion.findUniqueOrThrow({ where: { kid } });
    return { retiringUntil: (row.retiringUntil ?? new Date()).toISOString() };
  }

  /** RETIRING (or a STAGED version rolled back) becomes RETIRED. */
  async retire(kid: string): Promise<void> {
    await this.copy.changing(() =>
      this.prisma.secretVersion.updateMany({
        where: { kid, status: { in: ['RETIRING', 'STAGED'] } },
        data: { status: 'RETIRED', retiredAt: new Date() },
      }),
    );
  }

  /**
   * Re-encrypts every secret held under another master key, or sealed the old way (the master key
   * itself, no AAD), under MASTER_KEY_ID's keyring subkey, so an old master key can leave
   * MASTER_KEYS (once no Temporal history still needs it) and no secret stays in the old format.
   * Idempotent: a second run finds nothing to move. Answers what moved, from where.
   */
  async rewrap(): Promise<{ rewrapped: Rewrapped[] }> {
    return this.copy.changing(() => this.rewrapAll());
  }

  private async rewrapAll(): Promise<{ rewrapped: Rewrapped[] }> {
    const stale = await this.prisma.secretVersion.findMany({
      where: { OR: [{ masterKeyId: { not: this.config.MASTER_KEY_ID } }, { cipherFormat: { not: CIPHER_FORMAT } }] },
      orderBy: [{ purpose: 'asc' }, { version: 'asc' }],
    });
    const rewrapped: Rewrapped[] = [];
    for (const row of stale) {
      // Conditional on how the row was sealed: a concurrent rewrap of the same row changes nothing twice.
      const { count } = await this.prisma.secretVersion.updateMany({
        where: { id: row.id, masterKeyId: row.masterKeyId, cipherFormat: row.cipherFormat, ciphertext: row.ciphertext },
        data: this.encrypt(this.decrypt(row), row),
      });
      if (count) rewrapped.push({ kid: row.kid, from: row.masterKeyId, fromFormat: row.cipherFormat });
    }
    return { rewrapped };
  }

  /** How many secrets are still sealed the old way (rewrap() moves them). */
  async legacyCount(): Promise<number> {
    return this.prisma.secretVersion.count({ where: { cipherFormat: { not: CIPHER_FORMAT } } });
  }

  /** Every version of every purpose, without secrets. */
  async list() {
    for (const purpose of secretPurposes) await this.bootstrap(purpose);
    return this.prisma.secretVersion.findMany({
      omit: { id: true, ciphertext: true, iv: true, authTag: true },
      orderBy: [{ purpose: 'asc' }, { version: 'asc' }],
    });
  }
}

/** A secret re-encrypted by rewrap(): its kid, and the master key and format it was sealed under before. */
export interface Rewrapped {
  kid: string;
  from: string;
  fromFormat: number;
}

/** ACTIVE, or RETIRING with its grace still running at `now` (or not yet started). */
function isAccepted(row: SecretVersion, now: number): boolean {
  return (
    row.status === 'ACTIVE' ||
    (row.status === 'RETIRING' && (row.retiringUntil === null || row.retiringUntil.getTime() > now))
  );
}
