/**
 * Money for people and configuration for machines (src/platform/money.ts, src/platform/config.ts):
 * integer minor units shown in the currency's own digits; durations and settings parsed by the
 * one zod schema, a bad value or a public default in production stopping start-up with its name.
 */
import { duration, jwtRotationGrace, loadConfig, localDefaults, productionProblems } from '../../src/platform/config';
import { formatMoney } from '../../src/platform/money';

test("minor units are shown in the currency's own digits: cents, paise, and yen that have none", () => {
  expect(formatMoney(4599, 'USD')).toBe('$45.99');
  expect(formatMoney(49900, 'INR')).toBe('₹499.00');
  expect(formatMoney(500, 'JPY')).toBe('¥500');
  expect(formatMoney(1, 'EUR')).toBe('€0.01');
  expect(formatMoney(123456789, 'USD')).toBe('$1,234,567.89');
});

test('a duration is ms, s, m, h or d, as milliseconds; zero, negative or words are refused', () => {
  expect(['1500ms', '5s', '30m', '2h', '1d'].map((v) => duration.parse(v))).toEqual([
    1500, 5000, 1_800_000, 7_200_000, 86_400_000,
  ]);
  for (const bad of ['0s', '-5m', 'soon', '']) expect(duration.safeParse(bad).success).toBe(false);
});

test('with nothing set the local defaults apply; a bad value stops start-up naming the setting', () => {
  const config = loadConfig({});
  expect(config).toMatchObject({ PORT: 3000, RESERVATION_TTL: 1_800_000, TEMPORAL_TASK_QUEUE: 'durable-commerce' });
  expect(loadConfig({ RESERVATION_TTL: '45s', PORT: '8080' })).toMatchObject({ RESERVATION_TTL: 45_000, PORT: 8080 });
  expect(() => loadConfig({ RESERVATION_TTL: 'half an hour' })).toThrow(/RESERVATION_TTL: not a duration/);
  expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT/);
});

test("the worker's sticky cache and slots are bounded by default; more workflow tasks than cached workflows is refused", () => {
  expect(loadConfig({})).toMatchObject({
    WORKER_MAX_CACHED_WORKFLOWS: 100,
    WORKER_MAX_WORKFLOW_TASKS: 40,
    WORKER_MAX_ACTIVITIES: 100,
    WORKER_MAX_LOCAL_ACTIVITIES: 100,
  });
  expect(loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '50', WORKER_MAX_WORKFLOW_TASKS: '8' })).toMatchObject({
    WORKER_MAX_CACHED_WORKFLOWS: 50,
    WORKER_MAX_WORKFLOW_TASKS: 8,
  });
  expect(() => loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '10', WORKER_MAX_WORKFLOW_TASKS: '20' })).toThrow(
    /WORKER_MAX_WORKFLOW_TASKS: at most WORKER_MAX_CACHED_WORKFLOWS/,
  );
  // No cache at all: every task replays its workflow, and any number of them may run.
  expect(
    loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '0', WORKER_MAX_WORKFLOW_TASKS: '20' }).WORKER_MAX_WORKFLOW_TASKS,
  ).toBe(20);
  expect(() => loadConfig({ WORKER_MAX_ACTIVITIES: '0' })).toThrow(/WORKER_MAX_ACTIVITIES/);
});

test('production refuses every public local secret by name, and starts once each is its own', () => {
  expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
    /Refusing to start with NODE_ENV=production: .*JWT_SECRET/,
  );
  const own = Object.fromEntries(
    Object.keys(localDefaults).map((name) => [name, `${name.toLowerCase()}-of-our-own-0123456789`]),
  );
  own.MASTER_KEYS = `prod-1:${Buffer.alloc(32, 7).toString('base64')}`;
  expect(productionProblems(own as typeof localDefaults)).toEqual([]);
  // The local master key under another id is still the local key.
  expect(
    productionProblems({ ...own, MASTER_KEYS: `renamed:${localDefaults.MASTER_KEYS.split(':')[1]}` } as never),
  ).toEqual(['MASTER_KEYS']);
});

test('a rotated-out JWT key is accepted at least as long as a token lives', () => {
  expect(jwtRotationGrace({ JWT_ROTATION_GRACE: 60_000, JWT_TTL: 3_600_000 })).toBe(3_600_000);
  expect(jwtRotationGrace({ JWT_ROTATION_GRACE: 7_200_000, JWT_TTL: 3_600_000 })).toBe(7_200_000);
});
