/**
 * The scheduled backup's workflow against the real Temporal dev server, with its activity
 * stubbed: it runs the one backup (under the backup policy of src/workflows/policies.ts: a failed
 * dump is tried again a minute later, three tries in all) and answers what it wrote. With
 * RECORD_HISTORIES=1 it writes its history for replay.test.ts. (test/e2e/backup-restore.test.ts runs the real pg_dump from the real Schedule.)
 */
import { randomUUID } from 'node:crypto';
import type { databaseBackupWorkflow } from '../../src/workflows/database-backup/workflow';
import { keepHistory, recording, useStubWorker } from '../helpers/workflow-worker';

const stubs = {
  async backupDatabase(input: { reason: string }) {
    return { file: `/backups/db-${input.reason.length}.dump`, size: 2048, sha256: 'ab'.repeat(32), removed: [] };
  },
};
const { wrapped, callsOf } = recording(stubs, () => 'backup');
const worker = useStubWorker(wrapped);

test('one backup per run, its file answered', async () => {
  const handle = await worker.client.workflow.start<typeof databaseBackupWorkflow>('databaseBackupWorkflow', {
    workflowId: `database-backup-${randomUUID()}`,
    taskQueue: worker.taskQueue,
    args: [{ reason: 'scheduled backup' }],
  });
  expect(await handle.result()).toEqual({
    file: '/backups/db-16.dump',
    size: 2048,
    sha256: 'ab'.repeat(32),
    removed: [],
  });
  expect(callsOf('backup')).toEqual([{ name: 'backupDatabase', input: { reason: 'scheduled backup' } }]);
  await keepHistory('database-backup', handle);
});
