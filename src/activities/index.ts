import type { Transporter } from 'nodemailer';
import type Stripe from 'stripe';
import type { PrismaClient } from '../db';
import { emailActivities } from './email';
import { orderActivities } from './order';
import { paymentActivities } from './payment';
import { webhookActivities } from './webhook';

export interface ActivityDeps {
  prisma: PrismaClient;
  stripe: Stripe;
  mailer: Transporter;
  mailFrom: string;
}

/** Every activity, bound to its dependencies; the worker registers the result. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...orderActivities(deps.prisma),
    ...paymentActivities(deps.prisma, deps.stripe),
    ...emailActivities(deps.prisma, deps.mailer, deps.mailFrom),
    ...webhookActivities(deps.prisma),
  };
}

export type Activities = ReturnType<typeof createActivities>;
