/**
 * Every payload Temporal stores (workflow inputs, signals, updates, results, activity
 * arguments) is encrypted with AES-256-GCM before it leaves our processes, so history holds no
 * secret or personal data in clear text. The key id travels in the payload's metadata, so old
 * histories stay readable after the master key rotates. Admins read history in the Web UI
 * through the codec endpoint (src/api/codec.ts).
 *
 * Payloads are sealed under the master key's `temporal-payload` subkey (HKDF, src/platform/subkeys.ts),
 * never the master key the keyring also uses, and bound (AAD) to that use and to their key id;
 * metadata `encryption-format: 2` says so. Payloads written before (no format: the master key
 * itself, no AAD) are still read, so the histories of workflows started then replay and decode.
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
import { decode as decodeText, encode as encodeText } from '@temporalio/common/lib/encoding';
import { temporal } from '@temporalio/proto';
import type { Config } from './config';
import { associatedData, open, seal, Subkeys } from './subkeys';

export const ENCRYPTED = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
/** Absent on payloads sealed under the master key itself without AAD (before issue 13); `2` since. */
export const FORMAT = 'encryption-format';
const CURRENT_FORMAT = '2';

/** `id:base64(32 bytes)` pairs, comma-separated, as MASTER_KEYS holds them. */
export function parseMasterKeys(config: Pick<Config, 'MASTER_KEYS' | 'MASTER_KEY_ID'>): Map<string, Buffer> {
  const keys = new Map(
    config.MASTER_KEYS.split(',').map((pair) => {
      const [id, key] = pair.trim().split(':');
      const bytes = Buffer.from(key ?? '', 'base64');
      if (!id || bytes.length !== 32) throw new Error(`MASTER_KEYS: ${id || '(no id)'} must be id:base64 of 32 bytes`);
      return [id, bytes] as const;
    }),
  );
  if (!keys.has(config.MASTER_KEY_ID)) throw new Error(`MASTER_KEY_ID ${config.MASTER_KEY_ID} is not in MASTER_KEYS`);
  return keys;
}

/** A payload this codec cannot open: no or an unknown key id, or data that fails authentication. */
export class UndecodablePayloadError extends Error {}

/**
 * A payload that arrived unencrypted where everything must be: someone who reached the Temporal
 * frontend directly (the CLI, a Web UI without our codec) and typed a signal or update. Its
 * workflow task fails with this message, so the signal never reaches workflow code, and the
 * history shows why (reset the workflow to before it to go on).
 */
export class UnencryptedPayloadError extends UndecodablePayloadError {}

export type PlaintextPolicy = 'refuse' | 'accept';

export class EncryptionCodec implements PayloadCodec {
  private readonly subkeys: Subkeys;
  constructor(
    private readonly keys: Map<string, Buffer>,
    private readonly currentKeyId: string,
    /** `accept` reads payloads written before encryption (histories of workflows started then). */
    private readonly plaintext: PlaintextPolicy = 'refuse',
  ) {
    this.subkeys = new Subkeys(keys);
  }

  static fromConfig(
    config: CodecConfig,
    plaintext: PlaintextPolicy = config.TEMPORAL_PLAINTEXT_PAYLOADS,
  ): EncryptionCodec {
    return new EncryptionCodec(parseMasterKeys(config), config.MASTER_KEY_ID, plaintext);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.subkeys.of(this.currentKeyId, 'temporal-payload')!;
    const aad = payloadAad(this.currentKeyId);
    return payloads.map((payload) => {
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const { iv, ciphertext, authTag } = seal(key, plain, aad);
      return {
        metadata: {
          encoding: encodeText(ENCRYPTED),
          [KEY_ID]: encodeText(this.currentKeyId),
          [FORMAT]: encodeText(CURRENT_FORMAT),
        },
        data: Buffer.concat([iv, ciphertext, authTag]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.encoding ? decodeText(payload.metadata.encoding) : undefined;
      if (encoding !== ENCRYPTED) {
        if (this.plaintext === 'accept') return payload; // written before encryption
        throw new UnencryptedPayloadError(
          `refusing an unencrypted payload (encoding ${encoding ?? 'none'}): every payload must be encrypted by ` +
            'our codec; signals and updates sent straight to Temporal (CLI, a Web UI without the codec endpoint) are not accepted',
        );
      }
      const keyId = payload.metadata?.[KEY_ID] ? decodeText(payload.metadata[KEY_ID]!) : undefined;
      if (!keyId) throw new UndecodablePayloadError('an encrypted payload carries no key id');
      const format = payload.metadata?.[FORMAT] ? decodeText(payload.metadata[FORMAT]!) : undefined;
      if (format !== undefined && format !== CURRENT_FORMAT)
        throw new UndecodablePayloadError(`an encrypted payload in unknown format ${format}`);
      if (!this.keys.has(keyId)) throw new UndecodablePayloadError(`payload encrypted under unknown key ${keyId}`);
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < 12 + 16) throw new UndecodablePayloadError('an encrypted payload is too short');
      const sealed = { iv: data.subarray(0, 12), ciphertext: data.subarray(12, -16), authTag: data.subarray(-16) };
      try {
        const plain =
          format === CURRENT_FORMAT
            ? open(this.subkeys.of(keyId, 'temporal-payload')!, sealed, payloadAad(keyId))
            : open(this.keys.get(keyId)!, sealed); // written before subkeys: the master key itself, no AAD
        return temporal.api.common.v1.Payload.decode(plain) as Payload;
      } catch {
        throw new UndecodablePayloadError(
          `a payload under key ${keyId} fails authentication (altered, or sealed under another key)`,
        );
      }
    });
  }
}

/** What a payload's ciphertext is bound to: its use and the key id its metadata names. */
function payloadAad(keyId: string): Buffer {
  return associatedData('temporal-payload', keyId);
}

/** The failure converter's module, for workers and clients to load (and bundles to include). */
export const failureConverterPath = require.resolve('./failure-converter');

export type CodecConfig = Pick<Config, 'MASTER_KEYS' | 'MASTER_KEY_ID' | 'TEMPORAL_PLAINTEXT_PAYLOADS'>;

/** The data converter every client and worker of ours uses. */
export function dataConverterFor(config: CodecConfig) {
  return { payloadCodecs: [EncryptionCodec.fromConfig(config)], failureConverterPath };
}
