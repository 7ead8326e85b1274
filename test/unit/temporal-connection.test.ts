/**
 * The Temporal connection options (issue 13 point 5): plain gRPC to a dev server, TLS with a
 * client certificate and a private CA, or Temporal Cloud's API key, built from the zod config.
 */
import { loadConfig } from '../../src/platform/config';
import { temporalConnectionOptions } from '../../src/platform/temporal';

const files: Record<string, string> = { '/tls/client.pem': 'CERT', '/tls/client.key': 'KEY', '/tls/ca.pem': 'CA' };
const read = (path: string) => {
  if (!(path in files)) throw new Error(`ENOENT: ${path}`);
  return Buffer.from(files[path]);
};
const options = (env: Record<string, string>) =>
  temporalConnectionOptions(loadConfig({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', ...env }), read);

test('no TLS and no key: plain gRPC, as the local dev server speaks', () => {
  expect(options({})).toEqual({ address: 'ns.acct.tmprl.cloud:7233' });
});

test('mTLS: the client certificate pair, the CA and the server name', () => {
  expect(
    options({
      TEMPORAL_TLS_CERT: '/tls/client.pem',
      TEMPORAL_TLS_KEY: '/tls/client.key',
      TEMPORAL_TLS_CA: '/tls/ca.pem',
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    }),
  ).toEqual({
    address: 'ns.acct.tmprl.cloud:7233',
    tls: {
      clientCertPair: { crt: Buffer.from('CERT'), key: Buffer.from('KEY') },
      serverRootCACertificate: Buffer.from('CA'),
      serverNameOverride: 'temporal.internal',
    },
  });
});

test('an API key implies TLS with the system CAs', () => {
  expect(options({ TEMPORAL_API_KEY: 'tmprl-key' })).toEqual({
    address: 'ns.acct.tmprl.cloud:7233',
    tls: true,
    apiKey: 'tmprl-key',
  });
  expect(options({ TEMPORAL_TLS: 'true' })).toEqual({ address: 'ns.acct.tmprl.cloud:7233', tls: true });
});

test('half a certificate pair, or TLS switched off beside a key, is refused at start', () => {
  expect(() => options({ TEMPORAL_TLS_CERT: '/tls/client.pem' })).toThrow(/TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY/);
  expect(() => options({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' })).toThrow(/TEMPORAL_TLS=false/);
  expect(() => options({ TEMPORAL_TLS_CERT: '/missing.pem', TEMPORAL_TLS_KEY: '/tls/client.key' })).toThrow(/ENOENT/);
});
