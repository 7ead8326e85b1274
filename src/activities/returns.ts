/** The return workflow's side effects: thin wrappers over src/returns (refusals handed on as failures), each safe to retry. */
import type { PrismaClient } from '../platform/db';
import { refusing } from '../platform/errors';
import { closeWaitingReturn, openReturn, receiveReturn, recordReturnRefund } from '../returns/returns';

export function returnActivities(prisma: PrismaClient) {
  return {
    openReturn: (input: Parameters<typeof openReturn>[1]) => refusing(() => openReturn(prisma, input)),
    receiveReturn: (input: Parameters<typeof receiveReturn>[1]) => refusing(() => receiveReturn(prisma, input)),
    closeWaitingReturn: (input: Parameters<typeof closeWaitingReturn>[1]) =>
      refusing(() => closeWaitingReturn(prisma, input)),
    recordReturnRefund: (input: Parameters<typeof recordReturnRefund>[1]) =>
      refusing(() => recordReturnRefund(prisma, input)),
  };
}
