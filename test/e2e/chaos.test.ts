/**
 * The short chaos run (scripts/chaos.ts) as part of `npm test`: about 100 orders of every kind
 * while the worker is killed every few seconds and the API, Temporal and PostgreSQL once each.
 * It runs as a child process with a stack of its own; nothing may be lost or doubled.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

jest.setTimeout(900_000);

test('npm run chaos: ~100 orders under kill -9, nothing lost or doubled', async () => {
  const root = path.join(__dirname, '..', '..');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'scripts', 'chaos.ts'), '--orders', '100', '--seconds', '40'],
    { cwd: root, env: { ...process.env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const lines = output.trim().split('\n');
  const last = lines.at(-1) ?? '';
  if (code !== 0) console.log(output); // the run's own account of what went wrong
  expect(last).toMatch(/^chaos: (\d+) orders, \1 as expected, 0 lost, 0 doubled, settled in [\d.]+ s$/);
  expect(code).toBe(0);
});
