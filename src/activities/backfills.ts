/** The backfill workflow's one activity: a batch, done by the one implementation in src/backfills. */
import { isBackfillName, runBackfillBatch } from '../backfills/backfills';
import type { PrismaClient } from '../platform/db';
import { refusalFailure } from '../platform/errors';
import { ErrorCode } from '../workflows/vocabulary';

export function backfillActivities(prisma: PrismaClient) {
  return {
    async runBackfillBatch(input: {
      backfillId: string;
      name: string;
      after?: string;
      limit: number;
      dryRun: boolean;
    }) {
      if (!isBackfillName(input.name))
        throw refusalFailure(ErrorCode.VALIDATION_ERROR, `No backfill is named ${input.name}`);
      return runBackfillBatch(prisma, input);
    },
  };
}
