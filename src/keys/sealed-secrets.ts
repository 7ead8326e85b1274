/**
 * How one keyring secret is sealed in its row. Format 2: AES-256-GCM under the master key's
 * `keyring` subkey (HKDF, src/platform/subkeys.ts), bound (AAD) to the master key id, purpose and
 * kid the row names, so a ciphertext copied onto another row, or a row relabelled, does not open.
 * Format 1 (rows stored before issue 13): the master key itself, no AAD; still read until
 * Keyring.rewrap() moves it.
 */
import type { SecretVersion } from '../generated/prisma/client';
import { associatedData, open, seal, type Subkeys } from '../platform/subkeys';

/** How a secret is sealed: 1, under the master key itself without AAD (before issue 13); 2, its subkey and AAD. */
export const CIPHER_FORMAT = 2;
const LEGACY_FORMAT = 1;

/** A secret's place in the keyring, which its ciphertext is bound to. */
export type SealedFor = Pick<SecretVersion, 'purpose' | 'kid'>;

/** The columns that hold `secret`, sealed for its place under master key `masterKeyId`. */
export function sealSecret(subkeys: Subkeys, masterKeyId: string, place: SealedFor, secret: string) {
  const key = subkeys.of(masterKeyId, 'keyring');
  if (!key) throw new Error(`master key ${masterKeyId} is not configured`);
  const { iv, ciphertext, authTag } = seal(key, Buffer.from(secret, 'utf8'), secretAad(masterKeyId, place));
  return {
    ciphertext: ciphertext.toString('base64'),
    iv: iv.toString('base64'),
    authTag: authTag.toString('base64'),
    masterKeyId,
    cipherFormat: CIPHER_FORMAT,
  };
}

/** The secret a row holds; throws when the row does not open as what it says it is. */
export function openSecret(subkeys: Subkeys, row: SecretVersion): string {
  const sealed = {
    iv: Buffer.from(row.iv, 'base64'),
    ciphertext: Buffer.from(row.ciphertext, 'base64'),
    authTag: Buffer.from(row.authTag, 'base64'),
  };
  const master = subkeys.master(row.masterKeyId);
  if (!master) throw new Error(`master key ${row.masterKeyId} of ${row.kid} is not configured`);
  try {
    if (row.cipherFormat === LEGACY_FORMAT) return open(master, sealed).toString('utf8');
    if (row.cipherFormat !== CIPHER_FORMAT) throw new Error(`unknown cipher format ${row.cipherFormat}`);
    const key = subkeys.of(row.masterKeyId, 'keyring')!;
    return open(key, sealed, secretAad(row.masterKeyId, row)).toString('utf8');
  } catch (error) {
    throw new Error(
      `secret ${row.kid} does not open under master key ${row.masterKeyId} (altered, or moved from another row): ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
}

/** What a secret's ciphertext is bound to: the keyring, its master key id, purpose and kid. */
function secretAad(masterKeyId: string, place: SealedFor): Buffer {
  return associatedData('keyring', masterKeyId, place.purpose, place.kid);
}
