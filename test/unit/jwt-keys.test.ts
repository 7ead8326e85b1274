/**
 * The JWT HMAC keys authenticate and signIn use (hmacKey): a KeyObject made once per kid and
 * secret, holding the same bytes jsonwebtoken makes of the secret string, so a token signed
 * either way verifies the other way; a kid whose secret changed gets a key of the new secret;
 * and the cache stays small however many keys pass through it.
 */
import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { hmacKey } from '../../src/api/auth';

const secretOf = () => randomBytes(32).toString('base64url');

test('the same key for the same kid and secret, verifying what the secret string signs and the reverse', () => {
  const secret = `${secretOf()}-ü€`; // UTF-8 bytes beyond ASCII, as jsonwebtoken reads a string secret
  const key = hmacKey('kid-a', secret);
  expect(hmacKey('kid-a', secret)).toBe(key);
  expect(key.type).toBe('secret');

  const byString = jwt.sign({ sub: 'u' }, secret, { algorithm: 'HS256', keyid: 'kid-a' });
  expect(jwt.verify(byString, key, { algorithms: ['HS256'] })).toMatchObject({ sub: 'u' });
  const byKey = jwt.sign({ sub: 'v' }, key, { algorithm: 'HS256', keyid: 'kid-a' });
  expect(jwt.verify(byKey, secret, { algorithms: ['HS256'] })).toMatchObject({ sub: 'v' });
});

test("a kid never answers another secret's key, and another secret's key refuses the token", () => {
  const [first, second] = [secretOf(), secretOf()];
  const key = hmacKey('kid-b', first);
  const other = hmacKey('kid-b', second);
  expect(other).not.toBe(key);
  const token = jwt.sign({ sub: 'u' }, key, { algorithm: 'HS256', keyid: 'kid-b' });
  expect(() => jwt.verify(token, other, { algorithms: ['HS256'] })).toThrow('invalid signature');
});

test('the cache is bounded: keys made long ago are made again, equal to before', () => {
  const secret = secretOf();
  const key = hmacKey('kid-c', secret);
  for (let i = 0; i < 50; i += 1) hmacKey(`kid-${i}`, secretOf());
  const again = hmacKey('kid-c', secret);
  expect(again).not.toBe(key);
  expect(again.equals(key)).toBe(true);
});
