import type { Transporter } from 'nodemailer';
import type Stripe from 'stripe';
import type { PrismaClient } from '../platform/db';
import type { Keyring } from '../keys/keyring';
import type { RequestSeals } from '../access/request-seals';
import type { RazorpayGateway } from '../payments/razorpay';
import type { AlertConfig } from '../monitoring/alerts';
import { adminActivities } from './admins';
import { alertActivities } from './alerts';
import { backfillActivities } from './backfills';
import { emailActivities } from './email';
import { inventoryActivities } from './inventory';
import { keyActivities, type KeyConfig } from './keys';
import { systemActivities, type BackupConfig } from './system';
import { orderActivities } from './order';
import { productImportActivities } from './product-imports';
import { priceScheduleActivities } from './prices';
import { paymentActivities } from './payment';
import { refundActivities } from './refund';
import { returnActivities } from './returns';
import { disputeActivities } from './disputes';
import { webhookActivities } from './webhook';

export interface ActivityDeps {
  prisma: PrismaClient;
  stripe: Stripe;
  razorpay: RazorpayGateway;
  mailer: Transporter;
  mailFrom: string;
  keyring: Keyring;
  /** Tells an admin request the API sealed from one typed into Temporal. */
  requestSeals: RequestSeals;
  /** Where keys are verified (provider APIs) and the database logins are administered. */
  keyConfig: KeyConfig;
  /** Windows and thresholds of the business alerts. */
  alertConfig: AlertConfig;
  /** Where scheduled backups go and which login takes them. */
  backupConfig: BackupConfig;
  /** How long before a dispute's evidence deadline admins are reminded (DISPUTE_REMINDER_LEAD). */
  disputeReminderLeadMs: number;
}

/** Every activity, bound to its dependencies; the worker registers the result. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...orderActivities(deps.prisma),
    ...paymentActivities(deps.prisma, deps.stripe, deps.razorpay),
    ...refundActivities(deps.prisma, deps.stripe, deps.razorpay),
    ...emailActivities(deps.prisma, deps.mailer, deps.mailFrom),
    ...webhookActivities(deps.prisma),
    ...returnActivities(deps.prisma),
    ...disputeActivities(deps.prisma, deps.stripe, deps.disputeReminderLeadMs),
    ...keyActivities(deps.prisma, deps.keyring, deps.keyConfig),
    ...alertActivities(deps.prisma, deps.alertConfig),
    ...adminActivities(deps.prisma, deps.requestSeals),
    ...inventoryActivities(deps.prisma),
    ...priceScheduleActivities(deps.prisma),
    ...systemActivities(deps.prisma, deps.backupConfig),
    ...backfillActivities(deps.prisma),
    ...productImportActivities(deps.prisma),
  };
}

export type Activities = ReturnType<typeof createActivities>;
