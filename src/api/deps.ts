import type { Client } from '@temporalio/client';
import type Stripe from 'stripe';
import type { Config } from '../config';
import type { PrismaClient } from '../db';
import type { Keyring } from '../keyring';
import type { Logger } from '../logger';
import type { RazorpayGateway } from '../razorpay';

/** Everything the HTTP layer talks to. */
export interface ApiDeps {
  config: Config;
  prisma: PrismaClient;
  temporal: Client;
  stripe: Stripe;
  razorpay: RazorpayGateway;
  logger: Logger;
  keyring: Keyring;
}
