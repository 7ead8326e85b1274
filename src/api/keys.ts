import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { audit } from '../audit';
import type { KeyRotationInput, keyRotationWorkflow } from '../workflows/key-rotation';
import { authenticate, currentUser, requireRole } from './auth';
import type { ApiDeps } from './deps';
import { HttpError, parse } from './errors';

// Purposes the keyring knows; only JWT signing keys rotate through a workflow so far.
const purposes = ['JWT_SIGNING', 'STRIPE_API_KEY', 'STRIPE_WEBHOOK_SECRET', 'RAZORPAY_KEY', 'RAZORPAY_WEBHOOK_SECRET', 'DATABASE_PASSWORD'] as const;
const rotateBody = z.object({ purpose: z.enum(purposes), revokeSessions: z.boolean().default(false), reason: z.string().trim().min(1).max(500) });

export function keysRouter(deps: ApiDeps): Router {
  const { config, temporal, keyring, prisma } = deps;
  const router = Router();
  const admin = [authenticate(deps), requireRole('ADMIN')];

  router.post('/admin/keys/rotate', ...admin, async (req, res) => {
    const body = parse(rotateBody, req.body);
    if (body.purpose !== 'JWT_SIGNING') {
      throw new HttpError(400, 'ROTATION_NOT_AVAILABLE', `Rotating ${body.purpose} through a workflow is not available yet; only JWT_SIGNING is`);
    }
    const actorId = currentUser(req).id;
    const rotationId = randomUUID();
    const workflowId = `key-rotation-${body.purpose}-${rotationId}`;
    const input: KeyRotationInput = {
      purpose: body.purpose,
      requestedBy: { id: actorId, role: 'ADMIN' },
      reason: body.reason,
      revokeSessions: body.revokeSessions,
      // Never shorter than a token's lifetime, so no token in use is cut off by the rotation.
      graceMs: Math.max(config.JWT_ROTATION_GRACE, config.JWT_TTL),
    };
    await temporal.workflow.start<typeof keyRotationWorkflow>('keyRotationWorkflow', { workflowId, taskQueue: config.TEMPORAL_TASK_QUEUE, args: [input] });
    await audit(prisma, { actorId, action: 'KEY_ROTATION_STARTED', targetType: 'key_rotation', targetId: workflowId, reason: body.reason, after: { purpose: body.purpose, revokeSessions: body.revokeSessions } });
    res.status(202).json({ rotationId, workflowId, purpose: body.purpose });
  });

  router.get('/admin/keys', ...admin, async (_req, res) => {
    res.json({ keys: await keyring.list() });
  });

  return router;
}
