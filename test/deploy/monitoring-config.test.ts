/**
 * The shipped monitoring configuration is valid and says what the runbooks say: promtool checks
 * the alert rules and runs their unit tests (deploy/prometheus/alerts.test.yml); the Grafana
 * dashboard parses, and every metric DESIGN.md names has a panel and a rule or panel over it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');
const promtool = execFileSync('bash', [path.join(root, 'scripts', 'ensure-promtool.sh')], {
  encoding: 'utf8',
}).trim();
const run = (...args: string[]) =>
  execFileSync(promtool, args, { cwd: path.join(root, 'deploy', 'prometheus'), encoding: 'utf8' });

test('promtool check rules accepts the alert rules', () => {
  expect(run('check', 'rules', 'alerts.yml')).toMatch(/SUCCESS: \d+ rules found/);
});

test('the rules fire at the runbook thresholds (promtool test rules)', () => {
  expect(run('test', 'rules', 'alerts.test.yml')).toContain('SUCCESS');
});

test('every runbook threshold has a rule', () => {
  const rules = readFileSync(path.join(root, 'deploy', 'prometheus', 'alerts.yml'), 'utf8');
  for (const alert of [
    'HighErrorRate',
    'CriticalErrorRate',
    'HighLatencyP95',
    'CriticalLatencyP95',
    'PaymentSuccessLow',
    'PaymentSuccessCritical',
    'WebhookFailureRate',
    'WebhookSignatureFailures',
    'DatabasePoolNearlyFull',
    'HighMemory',
    'BusinessAlertOpen',
    'DisputeDeadlineWithin48h',
    'DisputesOpen',
  ])
    expect(rules).toContain(`alert: ${alert}\n`);
});

test('the Grafana dashboard shows every metric DESIGN.md names', () => {
  const dashboard = JSON.parse(
    readFileSync(path.join(root, 'deploy', 'grafana', 'dashboards', 'durable-commerce.json'), 'utf8'),
  ) as { uid: string; panels: { title: string; targets: { expr: string }[] }[] };
  expect(dashboard.uid).toBe('durable-commerce');
  const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
  for (const metric of [
    'http_request_duration_seconds',
    'durable_commerce_webhook_events_total',
    'durable_commerce_webhook_rejections_total',
    'durable_commerce_payment_attempts_total',
    'durable_commerce_refunds_pending',
    'durable_commerce_db_connections',
    'durable_commerce_alerts_open',
    'durable_commerce_disputes_open',
    'durable_commerce_dispute_deadlines_within_48h',
    'process_resident_memory_bytes',
    'temporal_worker_task_slots_available',
    'temporal_sticky_cache_size',
  ])
    expect(exprs).toContain(metric);
});
