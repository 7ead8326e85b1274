/** The return workflow's side effects: thin wrappers over src/returns, each safe to retry. */
import type { PrismaClient } from '../platform/db';
import { closeWaitingReturn, openReturn, receiveReturn, recordReturnRefund } from '../returns/returns';

export function returnActivities(prisma: PrismaClient) {
  return {
    openReturn: (input: Parameters<typeof openReturn>[1]) => openReturn(prisma, input),
    receiveReturn: (input: Parameters<typeof receiveReturn>[1]) => receiveReturn(prisma, input),
    closeWaitingReturn: (input: Parameters<typeof closeWaitingReturn>[1]) => closeWaitingReturn(prisma, input),
    recordReturnRefund: (input: Parameters<typeof recordReturnRefund>[1]) => recordReturnRefund(prisma, input),
  };
}
