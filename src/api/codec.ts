/**
 * The remote codec endpoint the Temporal Web UI calls to show encrypted payloads in clear
 * (`temporal server start-dev --ui-codec-endpoint <api>/codec`). Admins only: the UI forwards the
 * admin's bearer token. Payloads travel as Temporal's JSON form: base64 metadata values and data.
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
import express, { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { UndecodablePayloadError } from '../codec';
import { authenticate, requireRole } from './auth';
import type { ApiDeps } from './deps';
import { HttpError, parse } from './errors';

const jsonPayloads = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), z.string()).default({}), data: z.string().default('') })).max(1000),
});
type JsonPayload = z.infer<typeof jsonPayloads>['payloads'][number];

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data, 'base64'),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

export function codecRouter(deps: ApiDeps): Router {
  const router = Router();
  const codecs: PayloadCodec[] = [...deps.temporal.options.loadedDataConverter.payloadCodecs];
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

  for (const [path, run] of [
    ['/codec/decode', async (ps: Payload[]) => codecs.reduceRight(async (acc, codec) => codec.decode(await acc), Promise.resolve(ps))],
    ['/codec/encode', async (ps: Payload[]) => codecs.reduce(async (acc, codec) => codec.encode(await acc), Promise.resolve(ps))],
  ] as const) {
    router.options(path, cors);
    router.post(path, cors, express.json({ limit: '4mb' }), authenticate(deps), requireRole('ADMIN'), async (req, res) => {
      const { payloads } = parse(jsonPayloads, req.body);
      try {
        res.json({ payloads: (await run(payloads.map(fromJson))).map(toJson) });
      } catch (error) {
        if (error instanceof UndecodablePayloadError) throw new HttpError(400, 'UNDECODABLE_PAYLOAD', error.message);
        throw error;
      }
    });
  }
  return router;
}
