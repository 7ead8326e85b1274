/**
 * HTTP for the runbook's "User Access Management": create an account, suspend (sessions revoked,
 * tokens refused at once), restore, change role, reset a password, each by an admin with a
 * reason and audited by its one implementation in src/access; and the audit log itself.
 */
import { Router } from 'express';
import { z } from 'zod';
import { auditEntries } from '../access/audit';
import { changeRole, createAccount, newUserBody, restoreUser, suspendUser, userToChange } from '../access/users';
import { changeOwnPassword, passwordPolicy, resetPassword } from '../access/passwords';
import { authenticate, currentUser, requireRole } from './auth';
import type { ApiDeps } from './deps';
import { parse } from './errors';

export const userParams = z.object({ id: z.string().uuid() });
export const reasonBody = z.object({ reason: z.string().trim().min(1).max(500) });
export const roleBody = reasonBody.extend({ role: z.enum(['CUSTOMER', 'ADMIN']) });
export const resetBody = reasonBody.extend({ password: passwordPolicy });
export const changeBody = z.object({ currentPassword: z.string().min(1).max(200), newPassword: passwordPolicy });
export const auditQuery = z.object({
  actor: z.string().min(1).optional(),
  action: z.string().min(1).optional(),
  targetId: z.string().min(1).optional(),
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export function usersRouter(deps: ApiDeps): Router {
  const { prisma } = deps;
  const router = Router();
  const admin = [authenticate(deps), requireRole('ADMIN')];

  router.post('/admin/users', ...admin, async (req, res) => {
    const body = parse(newUserBody, req.body);
    res.status(201).json(await createAccount(prisma, body, currentUser(req).id));
  });

  router.post('/admin/users/:id/suspend', ...admin, async (req, res) => {
    const { reason } = parse(reasonBody, req.body);
    const { id } = parse(userParams, req.params);
    res.json(await suspendUser(prisma, { userId: id, reason, actorId: currentUser(req).id }));
  });

  router.post('/admin/users/:id/restore', ...admin, async (req, res) => {
    const { reason } = parse(reasonBody, req.body);
    const { id } = parse(userParams, req.params);
    res.json(await restoreUser(prisma, { userId: id, reason, actorId: currentUser(req).id }));
  });

  router.post('/admin/users/:id/role', ...admin, async (req, res) => {
    const { reason, role } = parse(roleBody, req.body);
    const { id } = parse(userParams, req.params);
    res.json(await changeRole(prisma, { userId: id, role, reason, actorId: currentUser(req).id }));
  });

  // Anyone signed in changes their own password, knowing the current one.
  router.post('/api/auth/password', authenticate(deps), async (req, res) => {
    const body = parse(changeBody, req.body);
    const user = currentUser(req);
    res.json(await changeOwnPassword(prisma, { userId: user.id, sessionId: user.sessionId, ...body }));
  });

  router.post('/admin/users/:id/password', ...admin, async (req, res) => {
    const { password, reason } = parse(resetBody, req.body);
    const actorId = currentUser(req).id;
    const user = await userToChange(prisma, parse(userParams, req.params).id, actorId);
    res.json({ userId: user.id, ...(await resetPassword(prisma, { userId: user.id, password, reason, actorId })) });
  });

  router.get('/admin/audit', ...admin, async (req, res) => {
    res.json({ entries: await auditEntries(prisma, parse(auditQuery, req.query)) });
  });

  return router;
}
