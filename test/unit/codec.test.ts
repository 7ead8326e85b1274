/**
 * The payload codec (src/platform/codec.ts): everything Temporal stores is AES-256-GCM under a
 * master key named in the payload; a changed byte, an unknown key or a plaintext payload typed
 * into Temporal directly is refused, never read as something else.
 */
import { randomBytes } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import {
  ENCRYPTED,
  EncryptionCodec,
  parseMasterKeys,
  UndecodablePayloadError,
  UnencryptedPayloadError,
} from '../../src/platform/codec';

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const json = (value: unknown): Payload => ({
  metadata: { encoding: Buffer.from('json/plain') },
  data: Buffer.from(JSON.stringify(value)),
});
const text = (payload: Payload) => Buffer.from(payload.data!).toString('utf8');

test('a payload comes back as it went in, and is stored sealed under the current key', async () => {
  const codec = new EncryptionCodec(new Map([['a', keyA]]), 'a');
  const [sealed] = await codec.encode([json({ card: '4242', amount: 4599 })]);
  expect(Buffer.from(sealed.metadata!.encoding!).toString()).toBe(ENCRYPTED);
  expect(Buffer.from(sealed.metadata!['encryption-key-id']!).toString()).toBe('a');
  expect(Buffer.from(sealed.data!).toString('latin1')).not.toContain('4242');
  const [opened] = await codec.decode([sealed]);
  expect(JSON.parse(text(opened))).toEqual({ card: '4242', amount: 4599 });
  expect(Buffer.from(opened.metadata!.encoding!).toString()).toBe('json/plain');
});

test('one changed byte anywhere in a sealed payload is refused as altered', async () => {
  const codec = new EncryptionCodec(new Map([['a', keyA]]), 'a');
  const [sealed] = await codec.encode([json({ refund: 100 })]);
  for (const at of [0, 12, sealed.data!.length - 1]) {
    const data = Buffer.from(sealed.data!);
    data[at] ^= 0x01;
    await expect(codec.decode([{ ...sealed, data }])).rejects.toThrow('fails authentication');
  }
  await expect(codec.decode([{ ...sealed, data: sealed.data!.subarray(0, 20) }])).rejects.toThrow('too short');
});

test('after a master key rotation old payloads still open; a key no longer held is named', async () => {
  const before = new EncryptionCodec(new Map([['a', keyA]]), 'a');
  const after = new EncryptionCodec(
    new Map([
      ['a', keyA],
      ['b', keyB],
    ]),
    'b',
  );
  const [old] = await before.encode([json('history')]);
  expect(text((await after.decode([old]))[0])).toBe('"history"');
  const [fresh] = await after.encode([json('new')]);
  await expect(before.decode([fresh])).rejects.toThrow('unknown key b');
  // The same key id over other material is not the same key.
  const impostor = new EncryptionCodec(new Map([['a', keyB]]), 'a');
  await expect(impostor.decode([old])).rejects.toThrow(UndecodablePayloadError);
});

test('a plaintext payload is refused unless reading histories from before encryption', async () => {
  const plain = json({ adminId: 'typed into the Web UI' });
  await expect(new EncryptionCodec(new Map([['a', keyA]]), 'a').decode([plain])).rejects.toThrow(
    UnencryptedPayloadError,
  );
  expect(await new EncryptionCodec(new Map([['a', keyA]]), 'a', 'accept').decode([plain])).toEqual([plain]);
});

test('MASTER_KEYS must be id:base64 of 32 bytes and hold MASTER_KEY_ID', () => {
  const a = keyA.toString('base64');
  expect(parseMasterKeys({ MASTER_KEYS: ` k1:${a} , k2:${keyB.toString('base64')}`, MASTER_KEY_ID: 'k2' }).size).toBe(
    2,
  );
  expect(() =>
    parseMasterKeys({ MASTER_KEYS: `k1:${randomBytes(16).toString('base64')}`, MASTER_KEY_ID: 'k1' }),
  ).toThrow('k1 must be id:base64 of 32 bytes');
  expect(() => parseMasterKeys({ MASTER_KEYS: `k1:${a}`, MASTER_KEY_ID: 'k9' })).toThrow('MASTER_KEY_ID k9');
});
