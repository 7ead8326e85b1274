/**
 * Store credit. A credit is one transaction: the wallet's balance and a ledger entry move
 * together, and the entry's unique idempotency key makes a repeated credit a no-op, so the
 * ledger (credits minus debits) always sums to the balance. And the wallet as its owner sees it.
 */
import { randomUUID } from 'node:crypto';
import type { PrismaClient, Transaction } from '../platform/db';
import { isUniqueViolation, txOptions } from '../platform/db';
import { audit, type AuditEntry } from '../access/audit';
import { DomainError } from '../platform/errors';
import { ErrorCode } from '../workflows/vocabulary';

/** The highest balance a wallet may hold, in minor units: its column is a 32-bit integer. */
export const MAX_WALLET_BALANCE = 2_000_000_000;

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
export async function creditWallet(
  prisma: PrismaClient,
  credit: WalletCredit,
  audited?: (after: { entryId: string; balance: number }) => AuditEntry,
): Promise<{ entryId: string; balance: number }> {
  try {
    return await prisma.$transaction(async (tx) => {
      const earlier = await tx.walletEntry.findUnique({
        where: { idempotencyKey: credit.idempotencyKey },
        include: { wallet: true },
      });
      if (earlier) return { entryId: earlier.id, balance: earlier.wallet.balance };
      // ON CONFLICT DO NOTHING: the first credits of a new wallet may arrive together.
      await tx.wallet.createMany({
        data: [{ id: randomUUID(), userId: credit.userId, currency: credit.currency }],
        skipDuplicates: true,
      });
      // One conditional update: concurrent credits can never take the balance past the limit.
      const { count } = await tx.wallet.updateMany({
        where: { userId: credit.userId, balance: { lte: MAX_WALLET_BALANCE - credit.amount } },
        data: { balance: { increment: credit.amount } },
      });
      const wallet = await tx.wallet.findUniqueOrThrow({ where: { userId: credit.userId } });
      if (wallet.currency !== credit.currency) {
        throw new DomainError(
          ErrorCode.WALLET_CURRENCY_MISMATCH,
          `The wallet holds ${wallet.currency}; it cannot be credited in ${credit.currency}`,
        );
      }
      if (count === 0) {
        throw new DomainError(
          ErrorCode.WALLET_BALANCE_LIMIT,
          `The wallet holds ${wallet.balance} ${wallet.currency}; a credit of ${credit.amount} would take it past ${MAX_WALLET_BALANCE}`,
        );
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
    }, txOptions);
  } catch (error) {
    // Two credits with the same key at once: the other one committed it.
    if (!isUniqueViolation(error)) throw error;
    const entry = await prisma.walletEntry.findUniqueOrThrow({
      where: { idempotencyKey: credit.idempotencyKey },
      include: { wallet: true },
    });
    return { entryId: entry.id, balance: entry.wallet.balance };
  }
}

/**
 * The runbook's "Manually Crediting Wallet": an admin's goodwill credit, with its reason, in the
 * wallet's currency (USD for a customer without one yet, unless another is named), audited in the
 * credit's own transaction. `requestKey` (a client's Idempotency-Key, the CLI's --key) makes a
 * retry answer the same entry: one credit, one audit entry.
 */
export async function grantGoodwillCredit(
  prisma: PrismaClient,
  input: { userId: string; amount: number; currency?: string; reason: string; adminId: string; requestKey?: string },
): Promise<{ entryId: string; balance: number }> {
  const user = await prisma.user.findUnique({ where: { id: input.userId }, include: { wallet: true } });
  if (!user) throw new DomainError(ErrorCode.USER_NOT_FOUND, `No user ${input.userId}`);
  return creditWallet(
    prisma,
    {
      userId: user.id,
      amount: input.amount,
      currency: input.currency ?? user.wallet?.currency ?? 'USD',
      reason: input.reason,
      actor: input.adminId,
      reference: 'goodwill',
      idempotencyKey: `goodwill-${input.requestKey ? `${input.adminId}-${input.requestKey}` : randomUUID()}`,
    },
    (after) => ({
      actorId: input.adminId,
      action: 'WALLET_CREDITED',
      targetType: 'user',
      targetId: user.id,
      reason: input.reason,
      before: { balance: after.balance - input.amount },
      after,
    }),
  );
}

/** A customer's wallet as they see it: balance, currency and the latest 50 entries (an empty one before any credit). */
export async function walletOf(prisma: PrismaClient, userId: string) {
  const wallet = await prisma.wallet.findUnique({
    where: { userId },
    include: { entries: { orderBy: { createdAt: 'desc' }, take: 50 } },
  });
  return { balance: wallet?.balance ?? 0, currency: wallet?.currency ?? null, entries: wallet?.entries ?? [] };
}

/**
 * Pays an order from the customer's wallet, inside the caller's transaction (the one that
 * reserves the stock): one conditional update, so the balance never goes below zero however
 * many checkouts spend it at once, and a DEBIT entry keyed by the order.
 */
export async function debitWalletForOrder(
  tx: Transaction,
  input: { userId: string; orderId: string; amount: number; currency: string },
): Promise<{ entryId: string; balance: number }> {
  const { count } = await tx.wallet.updateMany({
    where: { userId: input.userId, currency: input.currency, balance: { gte: input.amount } },
    data: { balance: { decrement: input.amount } },
  });
  const wallet = await tx.wallet.findUnique({ where: { userId: input.userId } });
  if (wallet && wallet.currency !== input.currency) {
    throw new DomainError(
      ErrorCode.WALLET_CURRENCY_MISMATCH,
      `The wallet holds ${wallet.currency}; it cannot pay for an order in ${input.currency}`,
    );
  }
  if (count === 0 || !wallet) {
    const held = wallet ? `${wallet.balance} ${wallet.currency}` : 'nothing';
    throw new DomainError(
      ErrorCode.INSUFFICIENT_WALLET_BALANCE,
      `The wallet holds ${held}; the order costs ${input.amount} ${input.currency}`,
    );
  }
  const entry = await tx.walletEntry.create({
    data: {
      id: randomUUID(),
      walletId: wallet.id,
      type: 'DEBIT',
      amount: input.amount,
      balanceAfter: wallet.balance,
      reason: `Order ${input.orderId}`,
      actor: input.userId,
      reference: input.orderId,
      idempotencyKey: `order-payment-${input.orderId}`,
    },
  });
  return { entryId: entry.id, balance: wallet.balance };
}
