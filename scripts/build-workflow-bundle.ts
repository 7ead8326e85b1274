/**
 * The last step of `npm run build`: bundles the compiled workflows (dist/src/workflows, with the
 * compiled failure converter and the tracing interceptors) into dist/src/workflow-bundle.js. A
 * worker started from dist/ loads that file instead of running webpack at start, which is what
 * lets a restarted worker poll again within a second or two rather than after the several seconds
 * a bundle takes to build.
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import { writeFileSync } from 'node:fs';
import { failureConverterPath } from '../src/platform/codec';
import { prebuiltWorkflowBundlePath } from '../src/workers/worker';
import { workflowInterceptorModules } from '../src/workers/tracing';

async function main(): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../src/workflows'),
    failureConverterPath,
    workflowInterceptorModules,
  });
  writeFileSync(prebuiltWorkflowBundlePath, code);
  console.log(`workflow bundle written to ${prebuiltWorkflowBundlePath}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
