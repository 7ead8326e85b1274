import { Router } from 'express';
import { z } from 'zod';
import { RequestSeals } from '../access/request-seals';
import { secretPurposes } from '../keys/keyring';
import {
  cancelKeyRotation,
  confirmRotationStep,
  keyRotationView,
  listKeyRotations,
  rewrapKeyring,
  startKeyRotation,
  supplyRotationSecret,
} from '../keys/rotations';
import { authenticate, currentUser, requireRole } from './auth';
import type { ApiDeps } from './deps';
import { parse } from './errors';

const reason = z.string().trim().min(1).max(500);
export const rotateBody = z.object({
  purpose: z.enum(secretPurposes),
  revokeSessions: z.boolean().default(false),
  reason,
});
export const rotationParams = z.object({ workflowId: z.string().min(1).max(200) });
export const stepParams = rotationParams.extend({ stepId: z.string().min(1).max(100) });
// A secret as copied from a dashboard: one line, no spaces.
const secretValue = z.string().regex(/^\S+$/, 'one line without spaces').max(500);
export const secretBody = z.union([
  z.object({ secret: secretValue }).strict(),
  z.object({ keyId: secretValue, keySecret: secretValue }).strict(),
]);
export const confirmBody = z.object({ note: z.string().trim().max(500).optional() });
export const keysQuery = z.object({ purpose: z.enum(secretPurposes).optional() });
export const rotationsQuery = keysQuery.extend({ limit: z.coerce.number().int().min(1).max(200).default(50) });

/** The keyring and its rotations, admins only; every action is audited. */
export function keysRouter(deps: ApiDeps): Router {
  const { keyring } = deps;
  const router = Router();
  const admin = [authenticate(deps), requireRole('ADMIN')];
  // Manual step confirmations carry the API's seal: the workflow tells them from those typed into Temporal.
  const sealing = { ...deps, seals: RequestSeals.fromConfig(deps.config) };

  router.post('/admin/keys/rotate', ...admin, async (req, res) => {
    const started = await startKeyRotation(deps, parse(rotateBody, req.body), currentUser(req).id);
    res.status(202).json({ ...started, view: await keyRotationView(deps, started.workflowId).catch(() => undefined) });
  });

  router.get('/admin/keys/rotations', ...admin, async (req, res) => {
    res.json({ rotations: await listKeyRotations(deps, parse(rotationsQuery, req.query)) });
  });

  router.post('/admin/keys/rewrap', ...admin, async (req, res) => {
    res.json(await rewrapKeyring(deps, parse(z.object({ reason }), req.body).reason, currentUser(req).id));
  });

  router.get('/admin/keys/rotations/:workflowId', ...admin, async (req, res) => {
    res.json(await keyRotationView(deps, parse(rotationParams, req.params).workflowId));
  });

  router.post('/admin/keys/rotations/:workflowId/secret', ...admin, async (req, res) => {
    const { workflowId } = parse(rotationParams, req.params);
    res.json(await supplyRotationSecret(deps, workflowId, parse(secretBody, req.body), currentUser(req).id));
  });

  router.post('/admin/keys/rotations/:workflowId/steps/:stepId/confirm', ...admin, async (req, res) => {
    const { workflowId, stepId } = parse(stepParams, req.params);
    res.json(
      await confirmRotationStep(
        sealing,
        workflowId,
        stepId,
        parse(confirmBody, req.body ?? {}).note,
        currentUser(req).id,
      ),
    );
  });

  router.post('/admin/keys/rotations/:workflowId/cancel', ...admin, async (req, res) => {
    const { workflowId } = parse(rotationParams, req.params);
    const body = parse(z.object({ reason }), req.body);
    res.status(202).json(await cancelKeyRotation(deps, workflowId, body.reason, currentUser(req).id));
  });

  router.get('/admin/keys', ...admin, async (req, res) => {
    const { purpose } = parse(keysQuery, req.query);
    res.json({ keys: (await keyring.list()).filter((key) => !purpose || key.purpose === purpose) });
  });

  return router;
}
