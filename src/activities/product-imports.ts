/**
 * The product import workflow's steps: each calls the one implementation in src/inventory/imports
 * and heartbeats while it works, so a batch or the landing transaction of a worker that died is
 * noticed within the heartbeat timeout and run again (each is safe to run again).
 */
import { Context } from '@temporalio/activity';
import type { PrismaClient } from '../platform/db';
import { refusing } from '../platform/errors';
import {
  commitProductImport,
  finishDryRun,
  readImportHeader,
  validateImportBatch,
  type BatchInput,
} from '../inventory/imports';

const heartbeat = (details?: unknown) => Context.current().heartbeat(details);

export function productImportActivities(prisma: PrismaClient) {
  return {
    async readImportHeader(input: { importId: string }) {
      return refusing(() => readImportHeader(prisma, input.importId));
    },
    async validateImportBatch(input: BatchInput) {
      return refusing(() => validateImportBatch(prisma, input, () => heartbeat()));
    },
    async commitProductImport(input: { importId: string }) {
      return refusing(() => commitProductImport(prisma, input.importId, (imported) => heartbeat({ imported })));
    },
    async finishProductImportDryRun(input: { importId: string }) {
      return refusing(() => finishDryRun(prisma, input.importId));
    },
  };
}
