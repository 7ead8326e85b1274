/**
 * Email over SMTP, at most once per idempotency key. Every message the system sends is keyed by
 * what it is about (kind, order or refund, recipient), so a retried activity or two activities
 * wanting the same message at once send it once: the first to claim the key's row sends it, and
 * a stable Message-ID lets mail systems drop the copy if a crash ever makes us send twice.
 *
 * A message costs two statements of its own besides SMTP (issue 18: they were four): one claims
 * the key's row or reads the row claimed before, one marks it sent.
 */
import { randomUUID } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type { PrismaClient } from './db';

/**
 * The worker's SMTP transport for `smtpUrl`: a pool of connections kept open between messages
 * (nodemailer's `pool`, five connections by default), so a message costs its MAIL, RCPT and DATA
 * and not a new connection, greeting and EHLO each (and, on a relay with STARTTLS, a TLS
 * handshake each). A broken connection is dropped and the message sent on a new one. The URL's
 * own query overrides these (`?pool=false`, `?maxConnections=2`). Close it when the worker stops.
 */
export function createMailer(smtpUrl: string): Transporter {
  return nodemailer.createTransport({ url: smtpUrl, pool: true });
}

export interface Mail {
  prisma: PrismaClient;
  mailer: Transporter;
  from: string;
}

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

interface StoredClaim {
  claimedBy: string | null;
  sentAt: Date | null;
}

/** Sends `message` at most once per `idempotencyKey`; `claim` names who is sending (one activity attempt). */
export async function sendOnce(mail: Mail, idempotencyKey: string, message: MailMessage, claim: string): Promise<void> {
  const { prisma } = mail;
  const messageId = `<${idempotencyKey.replace(/[^A-Za-z0-9.-]/g, '.')}@durable-commerce>`;
  const owner = await claimMessage(prisma, idempotencyKey, message, messageId, claim);
  // Sent already, or claimed by another activity: not ours to send.
  if (owner.claimedBy !== claim || owner.sentAt) return;
  await mail.mailer.sendMail({ from: mail.from, ...message, messageId });
  await prisma.emailMessage.update({ where: { idempotencyKey }, data: { sentAt: new Date() } });
}

/**
 * Claims the key's row for `claim`, or reads the row stored before (whose claim and sending
 * stand), in one statement: when two activities want the same message at once, the one whose
 * row is stored sends it, and its own retry finds its claim.
 *
 * The statement sees the table as it was when it began: a row that another activity committed
 * while the statement ran (two claims at once, the other's insert first) stops the insert unseen,
 * and neither branch answers. Then the row is read on its own, as src/payments/webhook-inbox.ts
 * storeWebhookEvent does.
 */
async function claimMessage(
  prisma: PrismaClient,
  idempotencyKey: string,
  message: MailMessage,
  messageId: string,
  claim: string,
): Promise<StoredClaim> {
  const [row] = await prisma.$queryRaw<StoredClaim[]>`
    WITH claimed AS (
      INSERT INTO email_messages (id, idempotency_key, "to", subject, message_id, claimed_by, created_at)
      VALUES (${randomUUID()}::uuid, ${idempotencyKey}, ${message.to}, ${message.subject}, ${messageId}, ${claim},
        now() AT TIME ZONE 'UTC')
      ON CONFLICT (idempotency_key) DO NOTHING
      RETURNING claimed_by, sent_at)
    SELECT claimed_by AS "claimedBy", sent_at AS "sentAt" FROM claimed
    UNION ALL
    SELECT claimed_by, sent_at FROM email_messages WHERE idempotency_key = ${idempotencyKey}`;
  return (
    row ??
    (await prisma.emailMessage.findUniqueOrThrow({
      where: { idempotencyKey },
      select: { claimedBy: true, sentAt: true },
    }))
  );
}
