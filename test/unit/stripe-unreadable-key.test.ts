/**
 * A Stripe call whose key cannot be read (the keyring's database restarting) fails as that call's
 * own error, is never sent without a key, and leaves the process standing: stripe-node throws a
 * failed authenticator's error from a promise nobody awaits, which ended the worker under npm run
 * chaos (src/payments/stripe.ts).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Keyring } from '../../src/keys/keyring';
import { createStripe } from '../../src/payments/stripe';

test('an unreadable key: the call rejects, nothing is sent, no unhandled rejection; a readable one signs the call', async () => {
  const received: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    received.push(req.headers.authorization);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ id: 'pi_1', object: 'payment_intent' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    let readable = false;
    const keyring = {
      active: async () => {
        if (!readable) throw new Error("Can't reach database server");
        return { secret: 'sk_test_readable' };
      },
    } as unknown as Keyring;
    const stripe = createStripe({ STRIPE_API_BASE: base }, keyring);

    const refused = await stripe.paymentIntents.retrieve('pi_1').then(
      () => undefined,
      (error: Error) => error,
    );
    expect(refused).toMatchObject({ type: 'StripeConnectionError' });
    expect(String((refused as { detail?: unknown }).detail)).toMatch(/Can't reach database server/);
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).toEqual([]);
    expect(received).toEqual([]);

    readable = true;
    expect(await stripe.paymentIntents.retrieve('pi_1')).toMatchObject({ id: 'pi_1' });
    expect(received).toEqual(['Bearer sk_test_readable']);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    server.close();
  }
});
