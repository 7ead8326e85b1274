/**
 * Email over SMTP, at most once per idempotency key. Every message the system sends is keyed by
 * what it is about (kind, order or refund, recipient), so a retried activity or two activities
 * wanting the same message at once send it once: the first to claim the key's row sends it, and
 * a stable Message-ID lets mail systems drop the copy if a crash ever makes us send twice.
 */
import type { Transporter } from 'nodemailer';
import type { PrismaClient } from './db';

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

/** Sends `message` at most once per `idempotencyKey`; `claim` names who is sending (one activity attempt). */
export async function sendOnce(mail: Mail, idempotencyKey: string, message: MailMessage, claim: string): Promise<void> {
  const { prisma } = mail;
  const earlier = await prisma.emailMessage.findUnique({ where: { idempotencyKey } });
  if (earlier?.sentAt) return;
  const messageId = `<${idempotencyKey.replace(/[^A-Za-z0-9.-]/g, '.')}@durable-commerce>`;
  // Claim the message: when two activities want to send the same one at once, one sends it.
  await prisma.emailMessage.createMany({
    data: [{ idempotencyKey, to: message.to, subject: message.subject, messageId, claimedBy: claim }],
    skipDuplicates: true,
  });
  const owner = await prisma.emailMessage.findUniqueOrThrow({ where: { idempotencyKey } });
  if (owner.claimedBy !== claim || owner.sentAt) return;
  await mail.mailer.sendMail({ from: mail.from, ...message, messageId });
  await prisma.emailMessage.update({ where: { idempotencyKey }, data: { sentAt: new Date() } });
}
