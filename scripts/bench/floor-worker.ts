/**
 * The floor's worker, a process of its own as the product's worker is: raw Temporal, default
 * data converter, no-op activities, on the task queue FLOOR_TASK_QUEUE of TEMPORAL_ADDRESS.
 * It stops on SIGTERM once its tasks are done. Started by `npm run bench -- --floor`.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createFloorActivities } from './floor-activities';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
  const worker = await Worker.create({
    connection,
    taskQueue: process.env.FLOOR_TASK_QUEUE ?? 'bench-floor',
    workflowsPath: require.resolve('./floor-workflow'),
    activities: createFloorActivities(),
  });
  console.log('floor worker started');
  await worker.run();
  await connection.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
