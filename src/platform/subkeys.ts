/**
 * One master key, several uses: the keyring's secrets at rest and the payloads Temporal stores
 * are sealed under different keys derived from it (HKDF-SHA256, one `info` per use), never under
 * the master key itself, so a ciphertext of one use can never be opened, or passed off, as the
 * other's. Each ciphertext is also bound, as AES-GCM additional data, to what it is for and to the
 * key id it names (for a keyring secret: its purpose and kid too), so moving it to another row,
 * purpose or key id makes it fail authentication.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** Every use a master key is put to; each gets its own subkey. */
export type SubkeyUse = 'keyring' | 'temporal-payload' | 'api-request';

const SALT = Buffer.from('durable-commerce/subkeys/v1');

/** The 32-byte subkey of `master` for `use`. */
export function deriveSubkey(master: Buffer, use: SubkeyUse): Buffer {
  return Buffer.from(hkdfSync('sha256', master, SALT, `durable-commerce/${use}/v2`, 32));
}

/** Derives each subkey once per process: master key id and use -> subkey. */
export class Subkeys {
  private readonly cache = new Map<string, Buffer>();
  constructor(private readonly masterKeys: Map<string, Buffer>) {}

  /** Master key `keyId` itself: only to read what was sealed under it before subkeys. */
  master(keyId: string): Buffer | undefined {
    return this.masterKeys.get(keyId);
  }

  /** The subkey of master key `keyId` for `use`; undefined when that master key is not configured. */
  of(keyId: string, use: SubkeyUse): Buffer | undefined {
    const cached = this.cache.get(`${use}\u0000${keyId}`);
    if (cached) return cached;
    const master = this.masterKeys.get(keyId);
    if (!master) return undefined;
    const subkey = deriveSubkey(master, use);
    this.cache.set(`${use}\u0000${keyId}`, subkey);
    return subkey;
  }
}

/** The additional data a ciphertext is bound to: its use, then each field that names what it is. */
export function associatedData(use: SubkeyUse, ...fields: string[]): Buffer {
  return Buffer.from(JSON.stringify([`durable-commerce/${use}/v2`, ...fields]), 'utf8');
}

export interface Sealed {
  iv: Buffer;
  ciphertext: Buffer;
  authTag: Buffer;
}

/** AES-256-GCM with a random 96-bit IV, bound to `aad`. */
export function seal(key: Buffer, plain: Uint8Array, aad: Buffer): Sealed {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);
  return { iv, ciphertext, authTag: cipher.getAuthTag() };
}

/** Opens what seal() sealed; throws when anything (ciphertext, IV, tag, AAD, key) differs. */
export function open(key: Buffer, sealed: Sealed, aad?: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv);
  if (aad) decipher.setAAD(aad);
  decipher.setAuthTag(sealed.authTag);
  return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
}
