import { msToNumber } from '@temporalio/common/lib/time';
import { z } from 'zod';

/** A duration such as `30m`, `5s` or `1500ms`, as milliseconds. */
export const duration = z.string().transform((value, ctx) => {
  try {
    const ms = msToNumber(value as Parameters<typeof msToNumber>[0]);
    if (!Number.isFinite(ms) || ms <= 0) throw new Error('not positive');
    return ms;
  } catch {
    ctx.addIssue({ code: 'custom', message: `not a duration: ${value} (try 30m, 5s)` });
    return z.NEVER;
  }
});

/**
 * The public local values of every secret and master key: they make `npm run dev` and `npm test`
 * work with nothing configured, and are in this repository for anyone to read. With
 * NODE_ENV=production none of them may be used (see productionProblems).
 */
export const localDefaults = {
  STRIPE_SECRET_KEY: 'sk_test_DurableCommerceLocal',
  STRIPE_WEBHOOK_SECRET: 'whsec_durable_commerce_local',
  RAZORPAY_KEY_ID: 'rzp_test_DurableCommerce',
  RAZORPAY_KEY_SECRET: 'durable-commerce-local-razorpay-secret',
  RAZORPAY_WEBHOOK_SECRET: 'durable-commerce-local-razorpay-webhook-secret',
  JWT_SECRET: 'durable-commerce-local-development-secret',
  MASTER_KEYS: 'local-1:ZHVyYWJsZS1jb21tZXJjZS1sb2NhbC1tYXN0ZXItayE=',
} as const;
const LOCAL_MASTER_KEY_MATERIAL = localDefaults.MASTER_KEYS.split(':')[1];

const optionalPath = z
  .string()
  .optional()
  .transform((v) => (v?.trim() ? v.trim() : undefined));

const envFields = z.object({
  /** `production` refuses every public local default of a secret (the API and the worker do not start). */
  NODE_ENV: z.string().default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z.string().default('postgresql://postgres@127.0.0.1:5432/durable_commerce'),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('durable-commerce'),
  /** mTLS to the Temporal frontend (Temporal Cloud, a self-hosted cluster with TLS): PEM file paths. */
  TEMPORAL_TLS_CERT: optionalPath,
  TEMPORAL_TLS_KEY: optionalPath,
  /** The CA that signed the frontend's certificate, when it is not a public one. */
  TEMPORAL_TLS_CA: optionalPath,
  /** The name the frontend's certificate carries, when it differs from TEMPORAL_ADDRESS's host. */
  TEMPORAL_TLS_SERVER_NAME: optionalPath,
  /** Force TLS on (`true`) with the system's CAs; implied by any TLS path or TEMPORAL_API_KEY. */
  TEMPORAL_TLS: z.enum(['true', 'false', '']).optional(),
  /** A Temporal Cloud API key (sent as a bearer token over TLS), instead of or beside mTLS. */
  TEMPORAL_API_KEY: optionalPath,
  /**
   * Workflows each worker keeps in its sticky cache. An order waits days for its shipment; kept
   * cached, every open order costs memory (several MiB each in the soak, with the tracing
   * interceptors in every bundle), so the SDK's default (sized from the machine's memory) lets a
   * worker grow without bound, and 500 let it reach 4 GiB. Past this many, the least recently
   * used is evicted and replayed from history when it next has work, which for a waiting order is
   * rare; 100 holds every order in flight at 20 orders/s (checkout to CONFIRMED in a few seconds)
   * with room to spare, and kept the worker's RSS flat in the soak.
   */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).default(100),
  /**
   * Slots: workflow tasks, activities and local activities each worker runs at once. A workflow
   * task is CPU in this process (a few ms each), so more than a few per core only queues them
   * here instead of on the server; activities mostly wait on PostgreSQL, a provider or SMTP, and
   * those holding a connection are bounded by DATABASE_POOL_SIZE anyway (a slot more than the
   * pool only waits for one, up to DATABASE_ACQUIRE_TIMEOUT). Workflow tasks may not exceed the
   * sticky cache unless it is off (0): refused here, where the SDK would quietly cut them.
   */
  WORKER_MAX_WORKFLOW_TASKS: z.coerce.number().int().min(2).default(40),
  WORKER_MAX_ACTIVITIES: z.coerce.number().int().min(1).default(100),
  WORKER_MAX_LOCAL_ACTIVITIES: z.coerce.number().int().min(1).default(100),
  /** How long an API request waits on Temporal (say, for an update's outcome) before answering 503. */
  API_TEMPORAL_DEADLINE: duration.prefault('30s'),
  // The Stripe and Razorpay keys and webhook secrets below are each one's first version in the
  // keyring, taken in on first start; after that they rotate through the keyring and these are ignored.
  STRIPE_SECRET_KEY: z.string().default(localDefaults.STRIPE_SECRET_KEY),
  STRIPE_API_BASE: z.string().url().default('http://127.0.0.1:12111'),
  STRIPE_WEBHOOK_SECRET: z.string().default(localDefaults.STRIPE_WEBHOOK_SECRET),
  STRIPE_WEBHOOK_TOLERANCE: duration.prefault('5m'),
  RAZORPAY_KEY_ID: z.string().default(localDefaults.RAZORPAY_KEY_ID),
  RAZORPAY_KEY_SECRET: z.string().default(localDefaults.RAZORPAY_KEY_SECRET),
  RAZORPAY_WEBHOOK_SECRET: z.string().default(localDefaults.RAZORPAY_WEBHOOK_SECRET),
  RAZORPAY_API_BASE: z.string().url().default('http://127.0.0.1:12120'),
  /** Oldest Razorpay event (its signed `created_at`) accepted: Razorpay retries a delivery for 24 hours. */
  RAZORPAY_WEBHOOK_MAX_AGE: duration.prefault('24h'),
  /** With no webhook this long after a payment attempt opened, ask the provider ourselves. */
  PAYMENT_RECONCILE_AFTER: duration.prefault('10m'),
  /** Remind admins of an undecided refund after this long, and again each interval. */
  REFUND_REMINDER_AFTER: duration.prefault('24h'),
  /** Ask the provider about a refund whose completion webhook has not come after this long. */
  REFUND_SETTLE_CHECK_AFTER: duration.prefault('10m'),
  /** Approve refunds of trusted customers (more than 10 delivered orders, no refund before) by policy. */
  REFUND_AUTO_APPROVE_TRUSTED: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /** A delivered order's lines may be returned for this long after delivery. */
  RETURN_WINDOW: duration.prefault('30d'),
  /** A return whose goods have not arrived this long after the request expires. */
  RETURN_RECEIVE_WITHIN: duration.prefault('14d'),
  /** Admins are reminded of a dispute's evidence deadline this long before it. */
  DISPUTE_REMINDER_LEAD: duration.prefault('48h'),
  SMTP_URL: z.string().default('smtp://127.0.0.1:1025'),
  MAIL_FROM: z.string().default('durable-commerce <orders@durable-commerce.local>'),
  RESERVATION_TTL: duration.prefault('30m'),
  /** How long after an inventory reset it may still be rolled back. */
  INVENTORY_RESET_ROLLBACK_WINDOW: duration.prefault('7d'),
  /** A CSV product import's largest file (POST /admin/products/import answers 413 PAYLOAD_TOO_LARGE past it). */
  PRODUCT_IMPORT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(50 * 1024 * 1024),
  /** Files up to this size are answered with the import's result; larger ones with 202 and its id, to follow. */
  PRODUCT_IMPORT_WAIT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(256 * 1024),
  /** Rows judged per activity of the import workflow, and batches before it continues as new. */
  PRODUCT_IMPORT_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  PRODUCT_IMPORT_BATCHES_PER_RUN: z.coerce.number().int().min(1).max(1000).default(20),
  /** The currency of an import's prices when its file has no currency column and the request names none. */
  PRODUCT_IMPORT_CURRENCY: z
    .string()
    .regex(/^[A-Za-z]{3}$/, 'an ISO 4217 code such as USD')
    .transform((c) => c.toUpperCase())
    .default('USD'),
  /** How far in the past a scheduled price change may start (a clock a little behind); further is refused. */
  PRICE_SCHEDULE_START_TOLERANCE: duration.prefault('1m'),
  /** How often low-stock crossings are emailed, and how often the low-stock digest goes out. */
  LOW_STOCK_ALERT_INTERVAL: duration.prefault('1m'),
  LOW_STOCK_DIGEST_INTERVAL: duration.prefault('1d'),
  JWT_SECRET: z.string().min(16).default(localDefaults.JWT_SECRET),
  JWT_TTL: duration.prefault('1h'),
  /** The `kid` of the first JWT key, taken into the keyring from JWT_SECRET on first start. */
  JWT_KEY_ID: z.string().min(1).default('jwt-1'),
  /** How long a rotated-out JWT key is still accepted; never shorter than JWT_TTL. */
  JWT_ROTATION_GRACE: duration.prefault('1h'),
  /** How often the Temporal Schedule rotates the JWT key. */
  JWT_ROTATION_INTERVAL: duration.prefault('90d'),
  /** How long a rotated-out Stripe or Razorpay key or webhook secret is still accepted. */
  KEY_ROTATION_GRACE: duration.prefault('24h'),
  /** How long a rotation waits for an admin (the new secret, a manual step) before it rolls back. */
  KEY_ROTATION_STEP_TIMEOUT: duration.prefault('7d'),
  /** Connections each API or worker process's pool may hold; instances × (pool + 1, the keyring listener) must stay within the server's budget (README). */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(10),
  /** How long a request waits for a free connection before it answers 503 DATABASE_UNAVAILABLE. */
  DATABASE_ACQUIRE_TIMEOUT: duration.prefault('5s'),
  /**
   * Whether statements are prepared by name on each connection (parsed and planned once): `auto`
   * does so unless DATABASE_URL reaches a pooler such as PgBouncer, `on` always (PgBouncer 1.21 or
   * later with max_prepared_statements), `off` never (src/platform/db.ts, namedStatements).
   */
  DATABASE_PREPARED_STATEMENTS: z.enum(['auto', 'on', 'off']).default('auto'),
  /** Used by the worker to create the two alternating login roles and set their passwords; defaults to DATABASE_URL. */
  DATABASE_ADMIN_URL: z.string().optional(),
  /** The alternating login roles are `<prefix>_blue` and `<prefix>_green`, members of the role `<prefix>`. */
  DATABASE_ROLE_PREFIX: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,40}$/, 'lower-case letters, digits and _')
    .default('durable_commerce_app'),
  /** How often each process looks for a rotated database login. */
  DATABASE_LOGIN_REFRESH: duration.prefault('15s'),
  /** How long the previous database login keeps its password after a rotation; at least 2 × DATABASE_LOGIN_REFRESH. */
  DATABASE_PASSWORD_GRACE: duration.prefault('10m'),
  /**
   * How long each process uses its copy of the keyring (the versions of a purpose it reads and
   * decrypts) before reading it again. Changes made elsewhere normally arrive at once by
   * LISTEN/NOTIFY (KEYRING_LISTEN_URL); this bounds how stale a copy can be without them.
   */
  KEYRING_CACHE_TTL: duration.prefault('1s'),
  /**
   * The connection each API and worker process LISTENs on for keyring changes: PostgreSQL itself
   * or a session-mode pool, never PgBouncer in transaction mode (a connection through a pooler is
   * refused, with a warning, and KEYRING_CACHE_TTL alone bounds staleness). Unset, DATABASE_URL;
   * `off`, no listening.
   */
  KEYRING_LISTEN_URL: z
    .string()
    .optional()
    .transform((v) => (v?.trim() ? v.trim() : undefined)),
  /** Master keys encrypting the keyring: `id:base64-32-bytes` pairs, comma-separated; MASTER_KEY_ID encrypts new secrets. */
  MASTER_KEYS: z.string().default(localDefaults.MASTER_KEYS),
  MASTER_KEY_ID: z.string().default('local-1'),
  /**
   * `refuse`: a payload Temporal hands our workers unencrypted fails its workflow task (a signal
   * typed straight into Temporal never reaches the workflow). `accept` only while workflows
   * started before payload encryption still run.
   */
  TEMPORAL_PLAINTEXT_PAYLOADS: z.enum(['refuse', 'accept']).default('refuse'),
  /** Origins of the Temporal Web UI allowed to call the codec endpoint. */
  TEMPORAL_UI_ORIGINS: z.string().default('http://127.0.0.1:8233,http://localhost:8233'),
  /**
   * Failed sign-ins allowed within LOGIN_WINDOW: for one account from one address (the usual
   * lock), for one address whatever the accounts, and for one account from every address
   * together, a higher ceiling, so that failures from elsewhere do not lock out its owner.
   */
  LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS: z.coerce.number().int().positive().default(5),
  LOGIN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().positive().default(50),
  LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().positive().default(100),
  LOGIN_WINDOW: duration.prefault('15m'),
  /** Express's `trust proxy` (`loopback`, a hop count, addresses): set it behind a reverse proxy so limits see the client's address. */
  TRUST_PROXY: z.string().optional(),
  /** Where `ops db backup` and the backup schedule write their dumps (on the machine that runs them). */
  BACKUP_DIR: z.string().default('.data/backups'),
  /** Backups older than this many days are removed after each new one. */
  BACKUP_RETENTION_DAYS: z.coerce.number().int().min(1).default(30),
  /** When set (say `24h`), the worker keeps a Temporal Schedule that backs the database up at this interval; unset, none. */
  BACKUP_SCHEDULE_INTERVAL: duration.optional(),
  /** How long each API replica trusts its copy of the maintenance flag before reading it again. */
  MAINTENANCE_CACHE_TTL: duration.prefault('2s'),
  /** The Retry-After a storefront write is told while maintenance mode is on. */
  MAINTENANCE_RETRY_AFTER: duration.prefault('5m'),
  /** How long the API and the worker take at most to stop on SIGTERM: in-flight requests and activities get this long to finish. */
  SHUTDOWN_TIMEOUT: duration.prefault('25s'),
  /** How long GET /health reuses a provider's probe result: at most one provider call per interval, however many hits. */
  HEALTH_PROVIDER_CACHE_TTL: duration.prefault('30s'),
  /** How long one health probe (database, Temporal, a provider) may take before it counts as down. */
  HEALTH_CHECK_TIMEOUT: duration.prefault('3s'),
  /** How often the Temporal Schedule evaluates the business alerts (src/monitoring/alerts.ts). */
  ALERT_EVALUATION_INTERVAL: duration.prefault('1m'),
  /** The window the alert rates are measured over (webhook failures, signatures, payment success). */
  ALERT_WINDOW: duration.prefault('10m'),
  /** Fewest events in the window for a rate to be judged at all (one failure of two is not an outage). */
  ALERT_MIN_SAMPLE: z.coerce.number().int().positive().default(10),
  /** An order still PAID (not yet confirmed) this long after payment is stuck. */
  ALERT_ORDER_STUCK_PAID_AFTER: duration.prefault('15m'),
  /** A webhook event still PENDING this long after it arrived is stuck. */
  ALERT_WEBHOOK_STUCK_PENDING_AFTER: duration.prefault('15m'),
  /** The worker serves GET /metrics (ours and the Temporal SDK's) on this port; 0 turns it off. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** Loopback port of the Temporal SDK's own Prometheus exporter, merged into the worker's /metrics; 0 turns it off. */
  TEMPORAL_SDK_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9465),
  /**
   * Where traces go: an OTLP/HTTP receiver (an OpenTelemetry Collector, Jaeger, Tempo, ...) as
   * `http://host:4318`; spans are posted as protobuf to `<this>/v1/traces`. Unset, tracing is off
   * and nothing of OpenTelemetry's is started (src/platform/tracing.ts).
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .string()
    .optional()
    .transform((v) => (v?.trim() ? v.trim().replace(/\/+$/, '') : undefined))
    .pipe(z.string().url().optional()),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SEED_ADMIN_EMAIL: z.string().email().default('admin@durable-commerce.local'),
  SEED_ADMIN_PASSWORD: z.string().min(8).default('Admin123!'),
  SEED_CUSTOMER_EMAIL: z.string().email().default('customer@durable-commerce.local'),
  SEED_CUSTOMER_PASSWORD: z.string().min(8).default('Customer123!'),
});

const envSchema = envFields.refine(
  (c) => c.WORKER_MAX_CACHED_WORKFLOWS === 0 || c.WORKER_MAX_WORKFLOW_TASKS <= c.WORKER_MAX_CACHED_WORKFLOWS,
  {
    path: ['WORKER_MAX_WORKFLOW_TASKS'],
    message: 'at most WORKER_MAX_CACHED_WORKFLOWS (a workflow task needs its workflow in the cache)',
  },
);

export type Config = z.infer<typeof envSchema>;

/** Reads configuration from the environment; a bad value stops start-up with a clear message. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  if (parsed.data.NODE_ENV === 'production') {
    const atDefault = productionProblems(parsed.data);
    if (atDefault.length)
      throw new Error(
        `Refusing to start with NODE_ENV=production: ${atDefault.join(', ')} ${atDefault.length === 1 ? 'has' : 'have'} ` +
          'the public local default; set each to a secret of your own',
      );
  }
  return parsed.data;
}

/**
 * The variables that still hold a public local default (for MASTER_KEYS: any key whose material
 * is the local key's, whatever its id). Empty means the configuration may run in production.
 */
export function productionProblems(config: Pick<Config, keyof typeof localDefaults>): string[] {
  const problems: string[] = (Object.keys(localDefaults) as (keyof typeof localDefaults)[]).filter(
    (name) => name !== 'MASTER_KEYS' && config[name] === localDefaults[name],
  );
  if (isLocalDefault('MASTER_KEYS', config.MASTER_KEYS)) problems.push('MASTER_KEYS');
  return problems;
}

/** Whether `value` is the public local default of `name` (never to be taken into a production keyring). */
export function isLocalDefault(name: keyof typeof localDefaults, value: string): boolean {
  if (name === 'MASTER_KEYS')
    return value.split(',').some((pair) => pair.trim().split(':')[1] === LOCAL_MASTER_KEY_MATERIAL);
  return localDefaults[name] === value;
}

/** How long a rotated-out JWT key is still accepted: never shorter than a token's lifetime, so no token in use is cut off. */
export function jwtRotationGrace(config: Pick<Config, 'JWT_ROTATION_GRACE' | 'JWT_TTL'>): number {
  return Math.max(config.JWT_ROTATION_GRACE, config.JWT_TTL);
}
