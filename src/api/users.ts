/**
 * The runbook's "User Access Management": create an account, suspend (sessions revoked, tokens
 * refused at once), restore, change role, each by an admin with a reason, each audited; and the
 * audit log itself.
 */
import { Router } from 'express';
import { z } from 'zod';
import { audit } from '../access/audit';
import { createAccount, newUserBody } from '../access/users';
import { changeOwnPassword, passwordPolicy, resetPassword } from '../access/passwords';
import { authenticate, currentUser, requireRole } from './auth';
import type { ApiDeps } from './deps';
import { DomainError } from '../platform/errors';
import { ErrorCode } from '../workflows/vocabulary';
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

  const snapshot = (user: { status: string; role: string; suspensionReason: string | null }) => ({
    status: user.status,
    role: user.role,
    suspensionReason: user.suspensionReason,
  });

  /** Loads the target user; an admin may not act on their own account this way (no lock-outs by accident). */
  async function target(req: Parameters<typeof currentUser>[0] & { params: unknown }) {
    const { id } = parse(userParams, req.params);
    if (id === currentUser(req).id)
      throw new DomainError(ErrorCode.SELF_ACTION, 'Admins cannot change their own access');
    const user = await prisma.user.findUnique({ where: { id } });
    if (!user) throw new DomainError(ErrorCode.USER_NOT_FOUND, `No user ${id}`);
    return user;
  }

  router.post('/admin/users', ...admin, async (req, res) => {
    const body = parse(newUserBody, req.body);
    res.status(201).json(await createAccount(prisma, body, currentUser(req).id));
  });

  router.post('/admin/users/:id/suspend', ...admin, async (req, res) => {
    const { reason } = parse(reasonBody, req.body);
    const user = await target(req);
    const after = await prisma.$transaction(async (tx) => {
      const updated = await tx.user.update({
        where: { id: user.id },
        data: { status: 'SUSPENDED', suspendedAt: new Date(), suspensionReason: reason },
      });
      const revoked = await tx.session.updateMany({
        where: { userId: user.id, revokedAt: null },
        data: { revokedAt: new Date(), revokeReason: `suspended: ${reason}` },
      });
      await audit(tx, {
        actorId: currentUser(req).id,
        action: 'USER_SUSPENDED',
        targetType: 'user',
        targetId: user.id,
        reason,
        before: snapshot(user),
        after: { ...snapshot(updated), sessionsRevoked: revoked.count },
      });
      return { ...snapshot(updated), sessionsRevoked: revoked.count };
    });
    res.json({ userId: user.id, ...after });
  });

  router.post('/admin/users/:id/restore', ...admin, async (req, res) => {
    const { reason } = parse(reasonBody, req.body);
    const user = await target(req);
    const updated = await prisma.$transaction(async (tx) => {
      const restored = await tx.user.update({
        where: { id: user.id },
        data: { status: 'ACTIVE', suspendedAt: null, suspensionReason: null },
      });
      await audit(tx, {
        actorId: currentUser(req).id,
        action: 'USER_RESTORED',
        targetType: 'user',
        targetId: user.id,
        reason,
        before: snapshot(user),
        after: snapshot(restored),
      });
      return restored;
    });
    res.json({ userId: user.id, ...snapshot(updated) });
  });

  router.post('/admin/users/:id/role', ...admin, async (req, res) => {
    const { reason, role } = parse(roleBody, req.body);
    const user = await target(req);
    const updated = await prisma.$transaction(async (tx) => {
      const changed = await tx.user.update({ where: { id: user.id }, data: { role } });
      await audit(tx, {
        actorId: currentUser(req).id,
        action: 'USER_ROLE_CHANGED',
        targetType: 'user',
        targetId: user.id,
        reason,
        before: snapshot(user),
        after: snapshot(changed),
      });
      return changed;
    });
    res.json({ userId: user.id, ...snapshot(updated) });
  });

  // Anyone signed in changes their own password, knowing the current one.
  router.post('/api/auth/password', authenticate(deps), async (req, res) => {
    const body = parse(changeBody, req.body);
    const user = currentUser(req);
    res.json(await changeOwnPassword(prisma, { userId: user.id, sessionId: user.sessionId, ...body }));
  });

  router.post('/admin/users/:id/password', ...admin, async (req, res) => {
    const { password, reason } = parse(resetBody, req.body);
    const user = await target(req);
    res.json({
      userId: user.id,
      ...(await resetPassword(prisma, { userId: user.id, password, reason, actorId: currentUser(req).id })),
    });
  });

  router.get('/admin/audit', ...admin, async (req, res) => {
    const query = parse(auditQuery, req.query);
    const entries = await prisma.auditLog.findMany({
      where: {
        actorId: query.actor,
        action: query.action,
        targetId: query.targetId,
        createdAt: { gte: query.from, lte: query.to },
      },
      orderBy: { createdAt: 'desc' },
      take: query.limit,
    });
    res.json({ entries });
  });

  return router;
}
