/**
 * The one active-admin check (activeAdminNamed, src/activities/admins.ts) over a stubbed user
 * table and real seals: who a request names, by id or email, and whether the API sealed it; the
 * deprecated names workflows started before the patch still schedule answer exactly as it does.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { adminNamedBy, RequestSeals } from '../../src/access/request-seals';
import { adminActivities } from '../../src/activities/admins';
import type { PrismaClient } from '../../src/platform/db';

const admin = { id: randomUUID(), email: 'night.shift@example.test' };
/** The stubbed user table holds one active admin; findFirst answers only a query for them as one. */
const prisma = {
  user: {
    async findFirst(query: { where: { id?: string; email?: string; role?: string; status?: string } }) {
      const { where } = query;
      const named = where.id === admin.id || where.email === admin.email;
      return named && where.role === 'ADMIN' && where.status === 'ACTIVE' ? admin : null;
    },
  },
} as unknown as PrismaClient;
const seals = new RequestSeals(new Map([['k1', randomBytes(32)]]), 'k1');
const activities = adminActivities(prisma, seals);

test('a signal names its admin by id or by email in any case; anyone else is nobody, and it came through Temporal', async () => {
  for (const named of [admin.id, admin.email.toUpperCase(), ` ${admin.email} `])
    expect(await activities.activeAdminNamed({ named })).toEqual({ admin, via: 'temporal' });
  for (const named of [randomUUID(), 'someone@example.test', '', 'not-an-id'])
    expect(await activities.activeAdminNamed({ named })).toEqual({ admin: null, via: 'temporal' });
});

test("an update is the API's only with the API's seal over exactly that workflow, update and content", async () => {
  const decision = { adminId: admin.id, reason: 'damaged' };
  const apiSeal = seals.seal('refund-1', 'approveRefund', decision);
  const sealed = { workflowId: 'refund-1', update: 'approveRefund', request: { ...decision, apiSeal } };
  expect(await activities.activeAdminNamed(sealed)).toEqual({ admin, via: 'api' });
  for (const changed of [
    { ...sealed, workflowId: 'refund-2' },
    { ...sealed, update: 'rejectRefund' },
    { ...sealed, request: { ...sealed.request, reason: 'something else' } },
    { ...sealed, request: { ...decision, apiSeal: 'k1.forged' } },
    { ...sealed, request: decision },
  ])
    expect(await activities.activeAdminNamed(changed)).toEqual({ admin, via: 'temporal' });
});

test('a shipment names its actor only when it says the actor is an admin', async () => {
  const request = { actor: { id: admin.email, role: 'ADMIN' as const }, trackingNumber: 'T-1' };
  expect(adminNamedBy(request)).toBe(admin.email);
  expect(adminNamedBy({ ...request, actor: { id: admin.email, role: 'CUSTOMER' } })).toBe('');
  expect(adminNamedBy({ adminId: admin.id, reason: 'ok' })).toBe(admin.id);
  const apiSeal = seals.seal('order-1', 'shipOrder', request);
  expect(
    await activities.activeAdminNamed({ workflowId: 'order-1', update: 'shipOrder', request: { ...request, apiSeal } }),
  ).toEqual({ admin, via: 'api' });
  const asCustomer = { ...request, actor: { id: admin.id, role: 'CUSTOMER' as const } };
  expect(
    await activities.activeAdminNamed({ workflowId: 'order-1', update: 'shipOrder', request: asCustomer }),
  ).toMatchObject({ admin: null });
});

test('the deprecated names answer what the one check answers', async () => {
  const stranger = randomUUID();
  expect(await activities.isAdmin({ refundId: 'r', userId: admin.email })).toBe(true);
  expect(await activities.isAdmin({ refundId: 'r', userId: stranger })).toBe(false);
  expect(await activities.isActiveAdmin({ userId: admin.id })).toBe(true);
  expect(await activities.isActiveAdmin({ userId: stranger })).toBe(false);
  expect(await activities.resolveActiveAdmin({ named: admin.email })).toEqual(admin);
  expect(await activities.resolveActiveAdmin({ named: stranger })).toBeNull();

  const request = { actor: { id: admin.email, role: 'ADMIN' as const } };
  const apiSeal = seals.seal('order-1', 'deliverOrder', request);
  expect(
    await activities.checkAdminRequest({
      workflowId: 'order-1',
      name: 'deliverOrder',
      request: { ...request, apiSeal },
    }),
  ).toEqual({ adminId: admin.id, via: 'api' });
  expect(await activities.checkAdminRequest({ workflowId: 'order-1', name: 'deliverOrder', request })).toEqual({
    adminId: admin.id,
    via: 'temporal',
  });
  expect(
    await activities.checkAdminRequest({
      workflowId: 'order-1',
      name: 'deliverOrder',
      request: { actor: { id: stranger, role: 'ADMIN' } },
    }),
  ).toEqual({ refused: `${stranger} is not an active admin` });
});
