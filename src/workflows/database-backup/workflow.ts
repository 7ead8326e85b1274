/**
 * One scheduled backup of the database: pg_dump on a worker, verified, with retention. A
 * failed dump is retried a few times, then the run fails where `temporal schedule describe`
 * and the Web UI show it.
 */
import { activitiesFor } from '../policies';
import type { DatabaseBackupInput, DatabaseBackupOutcome } from './messages';

const act = activitiesFor('backupDatabase');

export async function databaseBackupWorkflow(input: DatabaseBackupInput): Promise<DatabaseBackupOutcome> {
  return act.backupDatabase(input);
}
