/**
 * What `npm run chaos` holds the system to once it has settled, read from the database and the
 * SMTP mailbox: every accepted order in its expected state, stock and reservations equal to the
 * inventory ledger, one succeeded payment per paid order, one wallet entry per credit, refund
 * and wallet payment, one delivered email per notification, and no webhook event unprocessed.
 * Each order counts once: as expected, doubled (something twice), unsettled (something missing
 * while a workflow of its own still has work in hand: a task, an activity or a child) or lost
 * (something missing that nothing is left to bring: every workflow of its own is idle or closed,
 * or the order is in a state it cannot leave for the one expected).
 */
import type { PrismaClient } from '../../src/platform/db';
import { orderWorkflowId, refundWorkflowId, webhookWorkflowId } from '../../src/workflows/ids';
import type { PaymentProvider } from '../../src/workflows/vocabulary';
import type { ReceivedMail } from './services';

export type Flow = 'card' | 'cod' | 'wallet' | 'refund';

export interface AcceptedOrder {
  orderId: string;
  flow: Flow;
  customerEmail: string;
  productId: string;
  quantity: number;
  /** The refund approved for it (flow `refund`). */
  refundId?: string;
  /** The ids of the webhook events delivered for it (card and refund flows). */
  eventIds?: string[];
}

export interface Expectations {
  orders: AcceptedOrder[];
  /** wallet_entries idempotency keys of the goodwill credits that were answered 201. */
  goodwillKeys: string[];
  products: { id: string; initialStock: number }[];
}

/**
 * Which of these workflow ids still have work in hand (running, with a workflow task, an activity
 * or a child pending): what may yet bring a missing effect. Read from Temporal by the caller.
 */
export type StillMoving = (workflowIds: string[]) => Promise<Set<string>>;

export interface Verdict {
  expected: number;
  lost: number;
  doubled: number;
  /** Something missing while a workflow of its own is still at work: not lost, not settled either. */
  unsettled: number;
  /** Emails sent again with the same Message-ID after a crash (one email to the recipient). */
  redelivered: number;
  problems: string[];
}

const expectedState: Record<Flow, { status: string; paymentStatus?: string }> = {
  card: { status: 'CONFIRMED', paymentStatus: 'PAID' },
  cod: { status: 'CONFIRMED' },
  wallet: { status: 'CONFIRMED', paymentStatus: 'PAID' },
  refund: { status: 'REFUNDED' },
};

/** Statuses an order never leaves for the one its flow expects (it has ended otherwise). */
const deadEnds: Record<Flow, string[]> = {
  card: ['CANCELLED', 'REFUNDED', 'DELIVERED'],
  cod: ['CANCELLED', 'REFUNDED', 'DELIVERED'],
  wallet: ['CANCELLED', 'REFUNDED', 'DELIVERED'],
  refund: ['CANCELLED', 'DELIVERED'],
};

/** The workflows whose work an accepted order's flow waits on. */
function workflowsOf(order: AcceptedOrder): string[] {
  return [
    orderWorkflowId(order.orderId),
    ...(order.refundId ? [refundWorkflowId(order.refundId)] : []),
    ...(order.eventIds ?? []).map((id) => webhookWorkflowId('STRIPE', id)),
  ];
}

/**
 * The invariants. Without `stillMoving` every missing effect counts as lost (the settle loop's
 * quick look); with it, a missing effect whose own workflows are still at work counts as unsettled.
 */
export async function checkInvariants(
  prisma: PrismaClient,
  mailbox: ReceivedMail[],
  expectations: Expectations,
  stillMoving?: StillMoving,
): Promise<Verdict> {
  const problems: string[] = [];
  const verdict: Verdict = { expected: 0, lost: 0, doubled: 0, unsettled: 0, redelivered: 0, problems };
  const ids = expectations.orders.map((o) => o.orderId);
  const orders = new Map((await prisma.order.findMany({ where: { id: { in: ids } } })).map((o) => [o.id, o]));
  const payments = await prisma.payment.findMany({ where: { orderId: { in: ids }, status: 'SUCCEEDED' } });
  const emails = await prisma.emailMessage.findMany();
  const delivered = new Map<string, number>();
  for (const mail of mailbox)
    if (mail.messageId) delivered.set(mail.messageId, (delivered.get(mail.messageId) ?? 0) + 1);
  const entries = await prisma.walletEntry.findMany();
  const entryCount = new Map<string, number>();
  for (const entry of entries) entryCount.set(entry.idempotencyKey, (entryCount.get(entry.idempotencyKey) ?? 0) + 1);
  const reserves = await prisma.inventoryLedger.groupBy({
    by: ['reference'],
    where: { reference: { in: ids }, type: 'RESERVE' },
    _count: true,
  });
  const reserveCount = new Map(reserves.map((r) => [r.reference, r._count]));

  // SMTP has no idempotency: a worker killed after the server took a message and before we
  // recorded it sends it again on retry. The copy carries the same Message-ID (see sendOnce in
  // src/activities/email.ts), which mail systems and clients drop, so the customer sees one
  // email; the run counts such copies and prints them, and counts a second *different* message
  // for one notification (a second row, or mail we never recorded) as doubled.
  let redelivered = 0;
  /** The emails with this subject: how many were recorded, and how many of those the mailbox got. */
  const mailsWith = (subject: string) => {
    const rows = emails.filter((e) => e.subject === subject);
    return {
      rows: rows.length,
      unsent: rows.filter((e) => !e.sentAt).length,
      received: rows.map((e) => delivered.get(e.messageId) ?? 0),
    };
  };

  /** Products an unsettled order holds: their stock can still move. */
  const unsettledProducts = new Set<string>();
  for (const accepted of expectations.orders) {
    const order = orders.get(accepted.orderId);
    const missing: string[] = [];
    const twice: string[] = [];
    const want = expectedState[accepted.flow];
    if (!order) missing.push('no order row');
    else {
      if (order.status !== want.status) missing.push(`status ${order.status}, expected ${want.status}`);
      if (want.paymentStatus && order.paymentStatus !== want.paymentStatus)
        missing.push(`payment status ${order.paymentStatus}, expected ${want.paymentStatus}`);
    }
    if (accepted.flow === 'card' || accepted.flow === 'refund') {
      const succeeded = payments.filter((p) => p.orderId === accepted.orderId).length;
      if (accepted.flow === 'card' && succeeded === 0) missing.push('no succeeded payment');
      if (succeeded > 1) twice.push(`${succeeded} succeeded payments`);
    }
    if (accepted.flow === 'wallet') {
      const debits = entryCount.get(`order-payment-${accepted.orderId}`) ?? 0;
      if (debits === 0) missing.push('no wallet debit');
      if (debits > 1) twice.push(`${debits} wallet debits`);
    }
    if (accepted.flow === 'refund' && accepted.refundId) {
      const credits = entryCount.get(`refund-${accepted.refundId}`) ?? 0;
      if (credits === 0) missing.push('no wallet credit for the refund');
      if (credits > 1) twice.push(`${credits} wallet credits for the refund`);
      const refundMail = mailsWith(`Refund for order ${accepted.orderId}`);
      if (refundMail.rows === 0 || refundMail.received.some((n) => n === 0)) missing.push('refund email not delivered');
      redelivered += refundMail.received.filter((n) => n > 1).length;
    }
    const confirmation = mailsWith(`Order ${accepted.orderId} confirmed`);
    if (confirmation.rows === 0 || confirmation.unsent > 0 || confirmation.received.some((n) => n === 0))
      missing.push('confirmation email not delivered');
    redelivered += confirmation.received.filter((n) => n > 1).length;
    const reserved = reserveCount.get(accepted.orderId) ?? 0;
    if (reserved > 1) twice.push(`${reserved} reservations`);

    if (missing.length > 0) {
      const deadEnd = order !== undefined && deadEnds[accepted.flow].includes(order.status);
      const moving = !deadEnd && stillMoving ? await stillMoving(workflowsOf(accepted)) : new Set<string>();
      if (moving.size > 0) {
        verdict.unsettled++;
        unsettledProducts.add(accepted.productId);
        problems.push(
          `unsettled: ${accepted.flow} order ${accepted.orderId}: ${missing.join('; ')} (still at work: ${[...moving].join(', ')})`,
        );
      } else {
        verdict.lost++;
        problems.push(`lost: ${accepted.flow} order ${accepted.orderId}: ${missing.join('; ')}`);
      }
    } else if (twice.length > 0) {
      verdict.doubled++;
      problems.push(`doubled: ${accepted.flow} order ${accepted.orderId}: ${twice.join('; ')}`);
    } else verdict.expected++;
  }

  // Orders nobody was answered 201 for: orphans of retried checkouts, holding stock and emailing.
  const accepted = new Set(ids);
  const orphans = (await prisma.order.findMany({ select: { id: true, status: true } })).filter(
    (o) => !accepted.has(o.id),
  );
  for (const orphan of orphans) problems.push(`doubled: order ${orphan.id} (${orphan.status}) was never answered 201`);
  verdict.doubled += orphans.length;

  // Every goodwill credit answered 201 is in the wallet once.
  for (const key of expectations.goodwillKeys) {
    const n = entryCount.get(key) ?? 0;
    if (n !== 1) {
      problems.push(`${n === 0 ? 'lost' : 'doubled'}: goodwill credit ${key}: ${n} wallet entries`);
      if (n === 0) verdict.lost++;
      else verdict.doubled++;
    }
  }
  // Every wallet's balance is what its entries add up to.
  for (const wallet of await prisma.wallet.findMany({ include: { entries: true } })) {
    const sum = wallet.entries.reduce((total, e) => total + (e.type === 'CREDIT' ? e.amount : -e.amount), 0);
    if (sum !== wallet.balance) {
      verdict.lost++;
      problems.push(`lost: wallet ${wallet.id} balance ${wallet.balance}, its entries add up to ${sum}`);
    }
  }
  // Mail delivered more often than recorded, or recorded and never delivered.
  for (const [messageId, n] of delivered) {
    if (n > 1 && !emails.some((e) => e.messageId === messageId)) {
      verdict.doubled++;
      problems.push(`doubled: email ${messageId} delivered ${n} times`);
    }
  }

  // Stock and reservations equal the ledger, and what the accepted orders should have left.
  const ledger = await prisma.inventoryLedger.groupBy({
    by: ['productId'],
    _sum: { previousStock: true, newStock: true, previousReserved: true, newReserved: true },
  });
  for (const { id, initialStock } of expectations.products) {
    const product = await prisma.product.findUniqueOrThrow({ where: { id } });
    const sums = ledger.find((l) => l.productId === id)?._sum;
    const ledgerStock = (sums?.newStock ?? 0) - (sums?.previousStock ?? 0);
    const ledgerReserved = (sums?.newReserved ?? 0) - (sums?.previousReserved ?? 0);
    if (ledgerStock !== product.stock || ledgerReserved !== product.reservedStock) {
      verdict.lost++;
      problems.push(
        `lost: product ${id}: stock ${product.stock} reserved ${product.reservedStock}, the ledger says ${ledgerStock} and ${ledgerReserved}`,
      );
    }
    const mine = expectations.orders.filter((o) => o.productId === id);
    const sold = mine.filter((o) => o.flow === 'card' || o.flow === 'wallet').reduce((n, o) => n + o.quantity, 0);
    const held = mine.filter((o) => o.flow === 'cod').reduce((n, o) => n + o.quantity, 0);
    if (product.stock !== initialStock - sold || product.reservedStock !== held) {
      // Orders of this product still at work can still move its stock; otherwise nothing will.
      const still = unsettledProducts.has(id);
      if (still) verdict.unsettled++;
      else verdict.lost++;
      problems.push(
        `${still ? 'unsettled' : 'lost'}: product ${id}: stock ${product.stock} reserved ${product.reservedStock}, the accepted orders leave ${initialStock - sold} and ${held}`,
      );
    }
  }

  // An event not yet processed is unsettled while its webhook workflow is at work, else lost.
  const unprocessed = await prisma.webhookEvent.findMany({ where: { status: { not: 'PROCESSED' } } });
  const working = stillMoving
    ? await stillMoving(unprocessed.map((e) => webhookWorkflowId(e.provider as PaymentProvider, e.eventId)))
    : new Set<string>();
  for (const event of unprocessed) {
    const still = working.has(webhookWorkflowId(event.provider as PaymentProvider, event.eventId));
    if (still) verdict.unsettled++;
    else verdict.lost++;
    problems.push(`${still ? 'unsettled' : 'lost'}: webhook event ${event.eventId} is ${event.status}`);
  }
  verdict.redelivered = redelivered;
  return verdict;
}
