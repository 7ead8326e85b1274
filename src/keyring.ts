/**
 * The keyring: versioned secrets per purpose, each STAGED, ACTIVE, RETIRING (still accepted
 * until its grace ends) or RETIRED, encrypted at rest with AES-256-GCM under a master key whose
 * id is stored with every ciphertext, so master keys can rotate too. Secrets leave this module
 * only to the code that uses them; never into logs or Temporal history.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { parseMasterKeys } from './codec';
import type { Config } from './config';
import { isUniqueViolation, type PrismaClient } from './db';
import type { SecretVersion } from './generated/prisma/client';

export type SecretPurpose = 'JWT_SIGNING';
export const JWT_SIGNING: SecretPurpose = 'JWT_SIGNING';

export class Keyring {
  private readonly masterKeys: Map<string, Buffer>;
  private bootstrapped?: Promise<void>;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly config: Pick<Config, 'MASTER_KEYS' | 'MASTER_KEY_ID' | 'JWT_SECRET' | 'JWT_KEY_ID'>,
  ) {
    this.masterKeys = parseMasterKeys(config);
  }

  private encrypt(secret: string) {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.masterKeys.get(this.config.MASTER_KEY_ID)!, iv);
    const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return { ciphertext: ciphertext.toString('base64'), iv: iv.toString('base64'), authTag: cipher.getAuthTag().toString('base64'), masterKeyId: this.config.MASTER_KEY_ID };
  }

  private decrypt(row: SecretVersion): string {
    const master = this.masterKeys.get(row.masterKeyId);
    if (!master) throw new Error(`master key ${row.masterKeyId} of ${row.kid} is not configured`);
    const decipher = createDecipheriv('aes-256-gcm', master, Buffer.from(row.iv, 'base64'));
    decipher.setAuthTag(Buffer.from(row.authTag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(row.ciphertext, 'base64')), decipher.final()]).toString('utf8');
  }

  /** The first JWT key is JWT_SECRET under JWT_KEY_ID, taken in on first use (once per process). */
  private bootstrapJwtKey(): Promise<void> {
    this.bootstrapped ??= this.takeInFirstJwtKey().catch((error: unknown) => {
      this.bootstrapped = undefined; // try again next time
      throw error;
    });
    return this.bootstrapped;
  }

  private async takeInFirstJwtKey(): Promise<void> {
    if (await this.prisma.secretVersion.count({ where: { purpose: JWT_SIGNING } })) return;
    try {
      await this.prisma.secretVersion.create({
        data: { id: randomUUID(), purpose: JWT_SIGNING, version: 1, kid: this.config.JWT_KEY_ID, status: 'ACTIVE', activatedAt: new Date(), ...this.encrypt(this.config.JWT_SECRET) },
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error; // another process took it in first
    }
  }

  async active(purpose: SecretPurpose): Promise<{ kid: string; secret: string }> {
    if (purpose === JWT_SIGNING) await this.bootstrapJwtKey();
    const row = await this.prisma.secretVersion.findFirstOrThrow({ where: { purpose, status: 'ACTIVE' } });
    return { kid: row.kid, secret: this.decrypt(row) };
  }

  /** The secret for `kid` if it may still be used to verify: ACTIVE, or RETIRING within its grace. */
  async accepted(purpose: SecretPurpose, kid: string): Promise<string | undefined> {
    if (purpose === JWT_SIGNING) await this.bootstrapJwtKey();
    const row = await this.prisma.secretVersion.findUnique({ where: { kid } });
    if (!row || row.purpose !== purpose) return undefined;
    const usable = row.status === 'ACTIVE' || (row.status === 'RETIRING' && row.retiringUntil !== null && row.retiringUntil > new Date());
    return usable ? this.decrypt(row) : undefined;
  }

  /** Stages a new version (generated when no value is given); answers its kid, never the secret. */
  async stage(purpose: SecretPurpose, versionId: string, value?: string): Promise<{ kid: string; version: number }> {
    // The rotation chooses the version's id, so a retried stage finds its own version instead of adding one.
    const existing = await this.prisma.secretVersion.findUnique({ where: { id: versionId } });
    if (existing) return { kid: existing.kid, version: existing.version };
    await this.bootstrapJwtKey();
    const latest = await this.prisma.secretVersion.findFirst({ where: { purpose }, orderBy: { version: 'desc' } });
    const version = (latest?.version ?? 0) + 1;
    const kid = `jwt-${version}`;
    await this.prisma.secretVersion.create({
      data: { id: versionId, purpose, version, kid, status: 'STAGED', ...this.encrypt(value ?? randomBytes(64).toString('base64url')) },
    });
    return { kid, version };
  }

  async staged(kid: string): Promise<string> {
    return this.decrypt(await this.prisma.secretVersion.findUniqueOrThrow({ where: { kid } }));
  }

  /** Makes `kid` ACTIVE; the previous ACTIVE version is RETIRING until `graceMs` from now. */
  async promote(purpose: SecretPurpose, kid: string, graceMs: number): Promise<{ retiringKid?: string; retiringUntil?: string }> {
    return this.prisma.$transaction(async (tx) => {
      const target = await tx.secretVersion.findUniqueOrThrow({ where: { kid } });
      if (target.status === 'ACTIVE') {
        const retiring = await tx.secretVersion.findFirst({ where: { purpose, status: 'RETIRING' }, orderBy: { version: 'desc' } });
        return { retiringKid: retiring?.kid, retiringUntil: retiring?.retiringUntil?.toISOString() };
      }
      const retiringUntil = new Date(Date.now() + graceMs);
      const previous = await tx.secretVersion.findFirst({ where: { purpose, status: 'ACTIVE' } });
      if (previous) await tx.secretVersion.update({ where: { id: previous.id }, data: { status: 'RETIRING', retiringUntil } });
      await tx.secretVersion.update({ where: { kid }, data: { status: 'ACTIVE', activatedAt: new Date() } });
      return { retiringKid: previous?.kid, retiringUntil: previous ? retiringUntil.toISOString() : undefined };
    });
  }

  /** RETIRING (or a STAGED version rolled back) becomes RETIRED. */
  async retire(kid: string): Promise<void> {
    await this.prisma.secretVersion.updateMany({ where: { kid, status: { in: ['RETIRING', 'STAGED'] } }, data: { status: 'RETIRED', retiredAt: new Date() } });
  }

  async list() {
    const rows = await this.prisma.secretVersion.findMany({ orderBy: [{ purpose: 'asc' }, { version: 'asc' }] });
    return rows.map(({ purpose, version, kid, status, masterKeyId, createdAt, activatedAt, retiringUntil, retiredAt }) => ({ purpose, version, kid, status, masterKeyId, createdAt, activatedAt, retiringUntil, retiredAt }));
  }
}
