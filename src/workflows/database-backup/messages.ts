/** The database backup workflow's contract (`database-backup-<time>`, started by its Temporal Schedule). */
export interface DatabaseBackupInput {
  reason: string;
}

export interface DatabaseBackupOutcome {
  file: string;
  size: number;
  sha256: string;
  removed: string[];
}
