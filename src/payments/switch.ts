/**
 * The emergency switch for taking payments (the runbook's "Disable payment processing
 * temporarily"). Off: new card checkouts and payment retries are refused with 503
 * PAYMENTS_DISABLED; payments already made are still confirmed, and cash on delivery goes on.
 */
import { audit } from '../access/audit';
import type { PrismaClient } from '../platform/db';
import { DomainError } from '../platform/errors';
import { ErrorCode } from '../workflows/vocabulary';

const KEY = 'payments_enabled';

export interface PaymentsSwitch {
  enabled: boolean;
  reason?: string;
  updatedBy?: string;
  updatedAt?: string;
}

export async function paymentsSwitch(prisma: Pick<PrismaClient, 'systemSetting'>): Promise<PaymentsSwitch> {
  const setting = await prisma.systemSetting.findUnique({ where: { key: KEY } });
  if (!setting) return { enabled: true };
  return {
    enabled: setting.value === true,
    reason: setting.reason,
    updatedBy: setting.updatedBy,
    updatedAt: setting.updatedAt.toISOString(),
  };
}

/** While an operator has switched payments off, nothing new is charged: 503 PAYMENTS_DISABLED. */
export async function assertPaymentsEnabled(prisma: Pick<PrismaClient, 'systemSetting'>): Promise<void> {
  const payments = await paymentsSwitch(prisma);
  if (!payments.enabled) {
    throw new DomainError(ErrorCode.PAYMENTS_DISABLED, `Payments are switched off: ${payments.reason}`, {
      reason: payments.reason,
      since: payments.updatedAt,
    });
  }
}

export async function setPaymentsEnabled(
  prisma: PrismaClient,
  enabled: boolean,
  reason: string,
  actorId: string,
): Promise<PaymentsSwitch> {
  return prisma.$transaction(async (tx) => {
    const before = await paymentsSwitch(tx);
    await tx.systemSetting.upsert({
      where: { key: KEY },
      update: { value: enabled, reason, updatedBy: actorId },
      create: { key: KEY, value: enabled, reason, updatedBy: actorId },
    });
    const after = await paymentsSwitch(tx);
    await audit(tx, {
      actorId,
      action: enabled ? 'PAYMENTS_ENABLED' : 'PAYMENTS_DISABLED',
      targetType: 'system_settings',
      targetId: KEY,
      reason,
      before,
      after,
    });
    return after;
  });
}
