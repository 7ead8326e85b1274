/**
 * Issue 13 point 7 (one master key, two uses): Temporal payloads are sealed under the master key's
 * `temporal-payload` subkey and bound to that use and their key id, so a payload whose key id,
 * format or use is altered does not open; payloads recorded before (the master key itself, no
 * AAD) still do, as the recorded histories in test/histories hold them.
 */
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EncryptionCodec, ENCRYPTED, FORMAT, UndecodablePayloadError } from '../../src/platform/codec';
import { localDefaults } from '../../src/platform/config';
import { associatedData, deriveSubkey, seal } from '../../src/platform/subkeys';

const local1 = randomBytes(32);
const local2 = randomBytes(32);
const keys = new Map([
  ['local-1', local1],
  ['local-2', local2],
]);
const codec = new EncryptionCodec(keys, 'local-1');
const text = (value: string) => new TextEncoder().encode(value);
const plain: Payload = { metadata: { encoding: text('json/plain') }, data: text('{"amount":1500}') };
const withMetadata = (payload: Payload, name: string, value?: string): Payload => {
  const metadata = { ...payload.metadata };
  if (value === undefined) delete metadata[name];
  else metadata[name] = text(value);
  return { ...payload, metadata };
};

test('a payload is sealed under the subkey, marked format 2, and opens again', async () => {
  const [sealed] = await codec.encode([plain]);
  expect(new TextDecoder().decode(sealed.metadata![FORMAT])).toBe('2');
  expect(new TextDecoder().decode(sealed.metadata!.encoding)).toBe(ENCRYPTED);
  expect(await codec.decode([sealed])).toEqual([expect.objectContaining({ data: plain.data })]);
});

test('another key id, no format marker, or an unknown one: the payload does not open', async () => {
  const [sealed] = await codec.encode([plain]);
  // Both master keys are configured: only the binding to its key id refuses the swap.
  await expect(codec.decode([withMetadata(sealed, 'encryption-key-id', 'local-2')])).rejects.toThrow(
    /under key local-2 fails authentication/,
  );
  // Passed off as the old format (master key, no AAD): refused too.
  await expect(codec.decode([withMetadata(sealed, FORMAT)])).rejects.toThrow(UndecodablePayloadError);
  await expect(codec.decode([withMetadata(sealed, FORMAT, '3')])).rejects.toThrow(/unknown format 3/);
  const flipped = Buffer.from(sealed.data!);
  flipped[20] ^= 1;
  await expect(codec.decode([{ ...sealed, data: flipped }])).rejects.toThrow(/fails authentication/);
});

test("a ciphertext made for another use (the keyring's subkey, or another use's AAD) does not open as a payload", async () => {
  const inner = temporal.api.common.v1.Payload.encode(plain).finish();
  const as = (key: Buffer, aad: Buffer): Payload => {
    const { iv, ciphertext, authTag } = seal(key, inner, aad);
    return {
      metadata: { encoding: text(ENCRYPTED), 'encryption-key-id': text('local-1'), [FORMAT]: text('2') },
      data: Buffer.concat([iv, ciphertext, authTag]),
    };
  };
  const payloadKey = deriveSubkey(local1, 'temporal-payload');
  // The right key and binding open (the test builds payloads as the codec does)...
  expect(await codec.decode([as(payloadKey, associatedData('temporal-payload', 'local-1'))])).toHaveLength(1);
  // ...the keyring's subkey, or the keyring's binding, do not.
  await expect(
    codec.decode([as(deriveSubkey(local1, 'keyring'), associatedData('temporal-payload', 'local-1'))]),
  ).rejects.toThrow(UndecodablePayloadError);
  await expect(codec.decode([as(payloadKey, associatedData('keyring', 'local-1'))])).rejects.toThrow(
    UndecodablePayloadError,
  );
});

test('a payload from before subkeys (recorded history: master key, no AAD, no format) still opens', async () => {
  const history = JSON.parse(
    readFileSync(path.join(__dirname, '..', 'histories', 'refund-wallet-approved.json'), 'utf8'),
  ) as { events: { workflowExecutionStartedEventAttributes?: { input: { payloads: Record<string, unknown>[] } } }[] };
  const recorded = history.events[0].workflowExecutionStartedEventAttributes!.input.payloads[0] as {
    metadata: Record<string, string>;
    data: string;
  };
  expect(recorded.metadata[FORMAT]).toBeUndefined();
  const old: Payload = {
    metadata: Object.fromEntries(Object.entries(recorded.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(recorded.data, 'base64'),
  };
  // The local master key the histories were recorded under (config's default).
  const [opened] = await EncryptionCodec.fromConfig({
    MASTER_KEYS: localDefaults.MASTER_KEYS,
    MASTER_KEY_ID: 'local-1',
    TEMPORAL_PLAINTEXT_PAYLOADS: 'refuse',
  }).decode([old]);
  expect(JSON.parse(new TextDecoder().decode(opened.data!))).toMatchObject({ refundId: expect.any(String) });
});
