import type { Client } from '@temporalio/client';
import type Stripe from 'stripe';
import type { Config } from '../platform/config';
import type { PrismaClient } from '../platform/db';
import type { Keyring } from '../keys/keyring';
import type { Logger } from '../platform/logger';
import type { PoolStats } from '../monitoring/metrics';
import type { RazorpayGateway } from '../payments/razorpay';

/** Everything the HTTP layer talks to. */
export interface ApiDeps {
  config: Config;
  prisma: PrismaClient;
  temporal: Client;
  stripe: Stripe;
  razorpay: RazorpayGateway;
  logger: Logger;
  keyring: Keyring;
  /** The API's pg pool, reported under durable_commerce_db_connections. */
  pool?: { stats(): PoolStats };
}
