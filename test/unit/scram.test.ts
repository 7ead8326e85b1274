/**
 * The SCRAM-SHA-256 verifier the database password rotation sets (src/keys/database-login.ts):
 * PostgreSQL's own format, salted, so the clear password never reaches SQL text, and checkable
 * against a password without the server.
 */
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { matchesVerifier, scramVerifier } from '../../src/keys/database-login';

test("the verifier is PostgreSQL's SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey> (RFC 5802)", () => {
  const salt = Buffer.from('0123456789abcdef');
  const verifier = scramVerifier('pencil', salt, 4096);
  const salted = pbkdf2Sync('pencil', salt, 4096, 32, 'sha256');
  const stored = createHash('sha256').update(createHmac('sha256', salted).update('Client Key').digest()).digest();
  const server = createHmac('sha256', salted).update('Server Key').digest();
  expect(verifier).toBe(
    `SCRAM-SHA-256$4096:${salt.toString('base64')}$${stored.toString('base64')}:${server.toString('base64')}`,
  );
});

test('a verifier matches its password only, and each one has a salt of its own', () => {
  const verifier = scramVerifier('correct horse battery staple');
  expect(matchesVerifier(verifier, 'correct horse battery staple')).toBe(true);
  expect(matchesVerifier(verifier, 'correct horse battery stapler')).toBe(false);
  expect(scramVerifier('same password')).not.toBe(scramVerifier('same password'));
  expect(matchesVerifier('md5abcdef', 'anything')).toBe(false);
});
