/**
 * How soon a restarted API or worker serves again (issue 14 point 2: within 3 s): the compiled
 * entry points (dist/, plain node, as production runs them) started and killed with SIGKILL
 * `--times` times each against a stack of their own (scripts/lib/chaos-stack.ts: private
 * PostgreSQL, Temporal dev server, stripe-mock, SMTP). For each it prints the wall time until the
 * API answers /livez or the worker polls, and the CPU time the process used until then: the wall
 * time depends on how busy the machine is, the CPU time hardly at all, so the load average is
 * printed beside them.
 *
 *   npm run bench:restart -- [--times 5] [--no-build]
 */
import { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startChaosStack } from '../lib/chaos-stack';
import { positive } from '../lib/cli-args';
import { migrate } from '../migrate';

const options = new Command('bench:restart')
  .description('wall and CPU time until a restarted API or worker serves')
  .option('--times <n>', 'restarts of each', positive, 5)
  .option('--no-build', 'use dist/ as it is')
  .parse()
  .opts<{ times: number; build: boolean }>();

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const load = () => os.loadavg()[0].toFixed(1);

async function main(): Promise<void> {
  if (options.build) {
    const build = spawnSync('npm', ['run', 'build', '--silent'], {
      cwd: path.join(__dirname, '..', '..'),
      stdio: 'ignore',
    });
    if (build.status !== 0) throw new Error('npm run build failed');
  }
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'durable-commerce-restart-'));
  const stack = await startChaosStack(workDir, {});
  try {
    await migrate(stack.postgres.url);
    // The first starts (search attributes, schedules, a cold disk cache) are not what a restart costs.
    await stack.worker.start();
    await stack.api.start();
    for (const part of [stack.api, stack.worker]) {
      for (let i = 0; i < options.times; i++) {
        const ms = await part.restart();
        console.log(
          `${part.name} restart ${i + 1}: serving after ${ms.toFixed(0)} ms, ${part.lastStartCpuMs} ms of CPU; load average ${load()}`,
        );
      }
    }
    for (const part of [stack.api, stack.worker]) {
      console.log(
        `${part.name}: median ${median(part.restarts).toFixed(0)} ms to serve again (${Math.round(Math.min(...part.restarts))}-${Math.round(Math.max(...part.restarts))}), median ${median(part.restartCpu)} ms of CPU; load average ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(', ')}`,
      );
    }
  } finally {
    await stack.stop();
    spawnSync('rm', ['-rf', workDir]);
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
