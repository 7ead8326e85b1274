/**
 * The last step of `npm run build`: bundles the compiled workflows (dist/src/workflows, with the
 * compiled failure converter) twice, into dist/src/workflow-bundle.js for tracing off (new
 * workflows without the tracing interceptors) and dist/src/workflow-bundle-traced.js for tracing
 * on (scripts/lib/workflow-bundles.ts).
 * A worker started from dist/ loads the one its tracing asks for instead of running webpack at
 * start, which is what lets a restarted worker poll again within a second or two rather than
 * after the several seconds a bundle takes to build.
 */
import { writeFileSync } from 'node:fs';
import { prebuiltWorkflowBundlePaths } from '../src/workers/worker';
import { buildWorkflowBundles } from './lib/workflow-bundles';

async function main(): Promise<void> {
  const bundles = await buildWorkflowBundles();
  for (const kind of ['untraced', 'traced'] as const) {
    writeFileSync(prebuiltWorkflowBundlePaths[kind], bundles[kind]);
    console.log(`workflow bundle (${kind}) written to ${prebuiltWorkflowBundlePaths[kind]}`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
