/** The backfill workflow's one activity: a batch, done by the one implementation in src/backfills. */
import { ApplicationFailure } from '@temporalio/activity';
import { isBackfillName, runBackfillBatch } from '../backfills/backfills';
import type { PrismaClient } from '../platform/db';

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
        throw ApplicationFailure.nonRetryable(`No backfill is named ${input.name}`, 'VALIDATION');
      return runBackfillBatch(prisma, input);
    },
  };
}
