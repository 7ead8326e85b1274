/**
 * The decision on a held refund has exactly one audit entry, whatever the workflow's code: the
 * API's decideHeldRefund (src/refunds/requests.ts) seals its update, writes no entry when the
 * workflow answers that it audited the decision (patch refund-hold-decision-audited), and writes
 * it, under the workflow's id for it, when the workflow did not (started before the patch, run by
 * a worker of the release before). Stubbed Temporal handle and tables; the real seal.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { RequestSeals } from '../../src/access/request-seals';
import { holdDecisionAuditId } from '../../src/refunds/hold-decisions';
import { decideHeldRefund } from '../../src/refunds/requests';
import type { RefundView } from '../../src/workflows/refund/messages';

const seals = new RequestSeals(new Map([['k1', randomBytes(32)]]), 'k1');

function deps(answer: Partial<RefundView>) {
  const refundId = randomUUID();
  const written: { id?: string; action: string; actorId: string }[] = [];
  const sent: { name: string; args: unknown[] }[] = [];
  const prisma = {
    refund: { findUnique: async () => ({ id: refundId, status: 'APPROVED' }) },
    auditLog: { createMany: async ({ data }: { data: typeof written }) => void written.push(...data) },
  };
  const temporal = {
    workflow: {
      getHandle: (workflowId: string) => ({
        executeUpdate: async (update: { name: string }, options: { args: unknown[] }) => {
          sent.push({ name: `${workflowId}:${update.name}`, args: options.args });
          return { refundId, orderId: randomUUID(), status: 'COMPLETED', timeline: [], ...answer };
        },
      }),
    },
  };
  return {
    refundId,
    written,
    sent,
    deps: { prisma, temporal, seals } as unknown as Parameters<typeof decideHeldRefund>[0],
  };
}

test('the API sends its decision on a held refund sealed, and writes no audit entry when the workflow audited it', async () => {
  const { refundId, written, sent, deps: d } = deps({ holdDecisionAudited: true });
  const adminId = randomUUID();
  await decideHeldRefund(d, { refundId, release: true, adminId, reason: 'withdrawn' });
  expect(sent).toHaveLength(1);
  const [decision] = sent[0].args as [{ adminId: string; reason: string; release: boolean; apiSeal: string }];
  expect(sent[0].name).toBe(`refund-${refundId}:decideHeldRefund`);
  expect(seals.verify(`refund-${refundId}`, 'decideHeldRefund', decision)).toBe(true);
  expect(decision).toMatchObject({ adminId, reason: 'withdrawn', release: true });
  expect(written).toEqual([]);
});

test("a workflow that did not audit the decision (before the patch) has it audited by the API, under the workflow's id for it", async () => {
  const { refundId, written, deps: d } = deps({ status: 'FAILED' });
  const adminId = randomUUID();
  await decideHeldRefund(d, { refundId, release: false, adminId, reason: 'the bank refunds it' });
  expect(written).toEqual([
    expect.objectContaining({
      id: holdDecisionAuditId(refundId),
      actorId: adminId,
      action: 'REFUND_CANCELLED',
      targetId: refundId,
      reason: 'the bank refunds it',
    }),
  ]);
});
