/**
 * Store credit. A credit is one transaction: the wallet's balance and a ledger entry move
 * together, and the entry's unique idempotency key makes a repeated credit a no-op, so the
 * ledger always sums to the balance.
 */
import { randomUUID } from 'node:crypto';
import type { PrismaClient } from './db';
import { isUniqueViolation } from './db';

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

export async function creditWallet(prisma: PrismaClient, credit: WalletCredit): Promise<{ entryId: string; balance: number }> {
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
      return { entryId: entry.id, balance: wallet.balance };
    });
  } catch (error) {
    // Two credits with the same key at once: the other one committed it.
    if (!isUniqueViolation(error)) throw error;
    const entry = await prisma.walletEntry.findUniqueOrThrow({ where: { idempotencyKey: credit.idempotencyKey }, include: { wallet: true } });
    return { entryId: entry.id, balance: entry.wallet.balance };
  }
}
