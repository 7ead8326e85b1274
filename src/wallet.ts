/**
 * Store credit. A credit is one transaction: the wallet's balance and a ledger entry move
 * together, and the entry's unique idempotency key makes a repeated credit a no-op, so the
 * ledger always sums to the balance.
 */
import { randomUUID } from 'node:crypto';
import type { PrismaClient } from './db';
import { isUniqueViolation } from './db';
import { audit, type AuditEntry } from './audit';

export class WalletCurrencyError extends Error {}

export interface WalletCredit {
  userId: string;
  amount: number;
  currency: string;
  reason: string;
  actor: string;
  reference?: string;
  idempotencyKey: string;
}

/**
 * Credits the wallet once per idempotency key; `audited`, when given, is written in the same
 * transaction as the credit (an admin's goodwill credit is never on the books without its entry).
 */
export async function creditWallet(prisma: PrismaClient, credit: WalletCredit, audited?: (after: { entryId: string; balance: number }) => AuditEntry): Promise<{ entryId: string; balance: number }> {
  try {
    return await prisma.$transaction(async (tx) => {
      const earlier = await tx.walletEntry.findUnique({ where: { idempotencyKey: credit.idempotencyKey }, include: { wallet: true } });
      if (earlier) return { entryId: earlier.id, balance: earlier.wallet.balance };
      await tx.wallet.upsert({ where: { userId: credit.userId }, update: {}, create: { id: randomUUID(), userId: credit.userId, currency: credit.currency } });
      const wallet = await tx.wallet.update({ where: { userId: credit.userId }, data: { balance: { increment: credit.amount } } });
      if (wallet.currency !== credit.currency) {
        throw new WalletCurrencyError(`The wallet holds ${wallet.currency}; it cannot be credited in ${credit.currency}`);
      }
      const entry = await tx.walletEntry.create({
        data: {
          id: randomUUID(),
          walletId: wallet.id,
          type: 'CREDIT',
          amount: credit.amount,
          balanceAfter: wallet.balance,
          reason: credit.reason,
          actor: credit.actor,
          reference: credit.reference,
          idempotencyKey: credit.idempotencyKey,
        },
      });
      const credited = { entryId: entry.id, balance: wallet.balance };
      if (audited) await audit(tx, audited(credited));
      return credited;
    });
  } catch (error) {
    // Two credits with the same key at once: the other one committed it.
    if (!isUniqueViolation(error)) throw error;
    const entry = await prisma.walletEntry.findUniqueOrThrow({ where: { idempotencyKey: credit.idempotencyKey }, include: { wallet: true } });
    return { entryId: entry.id, balance: entry.wallet.balance };
  }
}
