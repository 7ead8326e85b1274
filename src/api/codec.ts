/**
 * The remote codec endpoint the Temporal Web UI calls to show encrypted payloads in clear
 * (`temporal server start-dev --ui-codec-endpoint <api>/codec`). Admins only. The Web UI forwards
 * no token of ours, only the browser's cookies (its "Include cross-origin credentials" setting):
 * an admin signs in once at `/codec/login`, which sets an HttpOnly session cookie scoped to
 * `/codec`. A bearer token works too (scripts, tests). Payloads travel as Temporal's JSON form:
 * base64 metadata values and data.
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
import express, { Router, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import { EncryptionCodec, UndecodablePayloadError } from '../platform/codec';
import { serialize } from 'cookie';
import { addressOf, authenticate, requireRole, signIn } from './auth';
import type { ApiDeps } from './deps';
import { DomainError } from '../platform/errors';
import { ErrorCode } from '../workflows/vocabulary';
import { parse } from './errors';

export const CODEC_COOKIE = 'durable_commerce_codec';
/** NODE_ENV values of local development and tests, where the codec cookie may travel over plain http. */
const localNodeEnvs = new Set(['development', 'test']);
export const loginForm = z.object({ email: z.string().email().max(320), password: z.string().min(1).max(200) });
const loginPage = `<!doctype html><meta charset="utf-8"><title>durable-commerce: codec sign-in</title>
<h1>Decode payloads in the Temporal Web UI</h1>
<p>Sign in as an admin. The page then says how to point the Web UI's codec settings at this endpoint.</p>
<form method="post" action="/codec/login">
<label>Email <input name="email" type="email" required autocomplete="username"></label>
<label>Password <input name="password" type="password" required autocomplete="current-password"></label>
<button>Sign in</button></form>`;

/** This endpoint's address as the browser reached it: what the admin pastes into the Web UI. */
const endpointOf = (req: Request) => `${req.protocol}://${req.get('host')}/codec`;
const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * The Web UI (temporal CLI v1.5.1, UI 2.42) sends the browser's cookies only to a codec endpoint
 * set in the browser, never to the cluster-level one (`--ui-codec-endpoint`, whose "include
 * credentials" the CLI cannot turn on): so the admin sets the endpoint in the browser, once.
 */
const signedInPage = (endpoint: string) => `<!doctype html><meta charset="utf-8"><title>Signed in</title>
<p>Signed in. Now, once per browser, in the Temporal Web UI:</p>
<ol>
<li>open the codec settings (the <em>Codec Server</em> button at the top right);</li>
<li>choose <em>Use my browser setting and ignore Cluster-level setting.</em>;</li>
<li>paste <code>${escapeHtml(endpoint)}</code> as the <em>Codec Server browser endpoint</em>;</li>
<li>turn on <em>Include cross-origin credentials</em>, then <em>Apply</em>.</li>
</ol>
<p>Payloads then show in clear, and signals you send are encrypted. You may close this tab.</p>`;

export const jsonPayloads = z.object({
  payloads: z
    .array(z.object({ metadata: z.record(z.string(), z.string()).default({}), data: z.string().default('') }))
    .max(1000),
});
type JsonPayload = z.infer<typeof jsonPayloads>['payloads'][number];

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data, 'base64'),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

export function codecRouter(deps: ApiDeps): Router {
  const router = Router();
  // The Web UI asks it to decode whatever history holds, old plaintext payloads included: a view, so it reads those as they are.
  const codecs: PayloadCodec[] = [EncryptionCodec.fromConfig(deps.config, 'accept')];
  const origins = new Set(deps.config.TEMPORAL_UI_ORIGINS.split(',').map((o) => o.trim()));

  // The Web UI calls from its own origin, with the token in Authorization and the namespace in X-Namespace.
  const cors: RequestHandler = (req, res, next) => {
    const origin = req.header('origin');
    if (origin && origins.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, X-Namespace');
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Vary', 'Origin');
    }
    if (req.method === 'OPTIONS') res.status(204).end();
    else next();
  };

  // The API's default policy asks browsers to upgrade to https, which would send this form nowhere on a plain-http dev setup.
  const pagePolicy = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
  router.get('/codec/login', (_req, res) => {
    res.setHeader('Content-Security-Policy', pagePolicy);
    res.type('html').send(loginPage);
  });

  // The form posts here; the session lives in a cookie only the browser holds and only /codec reads.
  router.post(
    '/codec/login',
    express.urlencoded({ extended: false, limit: '10kb' }),
    express.json({ limit: '10kb' }),
    async (req, res) => {
      const { email, password } = parse(loginForm, req.body);
      // A token for /codec only: the cookie is not a bearer token for the rest of the admin API.
      const { token, user } = await signIn(deps, email, password, addressOf(req), 'ADMIN', 'codec');
      res.setHeader(
        'Set-Cookie',
        serialize(CODEC_COOKIE, token, {
          httpOnly: true,
          sameSite: 'strict',
          // Plain http only on a developer's or the test's own machine; anywhere else https only.
          secure: req.secure || !localNodeEnvs.has(deps.config.NODE_ENV),
          path: '/codec',
          maxAge: Math.floor(deps.config.JWT_TTL / 1000),
        }),
      );
      res.setHeader('Content-Security-Policy', pagePolicy);
      res.format({
        html: () => void res.send(signedInPage(endpointOf(req))),
        default: () => void res.json({ signedIn: true, user, codecEndpoint: endpointOf(req) }),
      });
    },
  );

  for (const [path, run] of [
    [
      '/codec/decode',
      async (ps: Payload[]) => codecs.reduceRight(async (acc, codec) => codec.decode(await acc), Promise.resolve(ps)),
    ],
    [
      '/codec/encode',
      async (ps: Payload[]) => codecs.reduce(async (acc, codec) => codec.encode(await acc), Promise.resolve(ps)),
    ],
  ] as const) {
    router.options(path, cors);
    // Who is asking is settled before a 4 MB body is read and parsed.
    router.post(
      path,
      cors,
      authenticate(deps, { cookie: CODEC_COOKIE, scope: 'codec' }),
      requireRole('ADMIN'),
      express.json({ limit: '4mb' }),
      async (req, res) => {
        const { payloads } = parse(jsonPayloads, req.body);
        try {
          res.json({ payloads: (await run(payloads.map(fromJson))).map(toJson) });
        } catch (error) {
          if (error instanceof UndecodablePayloadError)
            throw new DomainError(ErrorCode.UNDECODABLE_PAYLOAD, error.message);
          throw error;
        }
      },
    );
  }
  return router;
}
