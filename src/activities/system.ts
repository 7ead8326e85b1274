/**
 * The scheduled database backup, as an activity: it shells out to pg_dump through the one
 * implementation in src/system/backup.ts, which records the backup in the audit log.
 */
import type { Config } from '../platform/config';
import type { PrismaClient } from '../platform/db';
import { recordedBackup } from '../system/backup';

export type BackupConfig = Pick<Config, 'DATABASE_URL' | 'DATABASE_ADMIN_URL' | 'BACKUP_DIR' | 'BACKUP_RETENTION_DAYS'>;

export function systemActivities(prisma: PrismaClient, config: BackupConfig) {
  return {
    async backupDatabase(input: { reason: string }) {
      const result = await recordedBackup(
        prisma,
        {
          databaseUrl: config.DATABASE_ADMIN_URL ?? config.DATABASE_URL,
          dir: config.BACKUP_DIR,
          retentionDays: config.BACKUP_RETENTION_DAYS,
        },
        { actorId: 'schedule', reason: input.reason },
      );
      return { file: result.file, size: result.size, sha256: result.sha256, removed: result.removed };
    },
  };
}
