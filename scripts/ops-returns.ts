/**
 * The ops CLI's returns and disputes commands (after delivery, without SQL or curl): list with
 * filters, show one, receive or reject a return, record a dispute's evidence. Each calls the
 * operation the admin API calls (src/returns/operations.ts, src/disputes/operations.ts) as the
 * acting admin, so the workflow decides and audits it the same way.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { z } from 'zod';
import { listDisputes } from '../src/disputes/disputes';
import { disputeStates, evidenceBody, recordDisputeEvidence, showDispute } from '../src/disputes/operations';
import { listReturns } from '../src/returns/returns';
import { receiveBody, receiveReturnGoods, rejectReturn, returnStatuses, showReturn } from '../src/returns/operations';
import type { OpsKit } from './ops-inventory';
import { positiveInteger } from './lib/cli-args';

function uuid(value: string): string {
  if (!z.string().uuid().safeParse(value).success) throw new InvalidArgumentError(`not an id (a UUID): ${value}`);
  return value;
}

type ReceivedLine = z.infer<typeof receiveBody>['lines'][number];

/** `--line <productId>:<quantity>:<RESTOCK|DAMAGED>`, repeatable: one received line each. */
function receivedLine(value: string, previous: ReceivedLine[] = []): ReceivedLine[] {
  const [productId = '', quantity = '', condition = ''] = value.split(':');
  const line = receiveBody.shape.lines.element.safeParse({
    productId,
    quantity: Number(quantity),
    condition: condition.toUpperCase(),
  });
  if (!line.success)
    throw new InvalidArgumentError(`not <productId>:<quantity>:<RESTOCK|DAMAGED> (e.g. <uuid>:2:RESTOCK): ${value}`);
  return [...previous, line.data];
}

export function registerReturnsCommands(program: Command, kit: OpsKit): void {
  const { withOperations, actor, print } = kit;
  const returns = program.command('returns').description('returns after delivery: list, show, receive, reject');

  returns
    .command('list')
    .description('returns, newest first')
    .addOption(new Option('--status <status>').choices(returnStatuses))
    .option('--order <orderId>', 'only this order', uuid)
    .option('--limit <n>', 'at most this many', positiveInteger, 50)
    .action(async (options) =>
      print({
        returns: await withOperations(actor(), ({ prisma }) =>
          listReturns(prisma, { status: options.status, orderId: options.order, limit: options.limit }),
        ),
      }),
    );

  returns
    .command('show')
    .description('one return: its lines, what came back, its refund')
    .argument('<returnId>', 'the return', uuid)
    .action(async (returnId: string) =>
      print(await withOperations(actor(), ({ prisma }) => showReturn(prisma, returnId))),
    );

  returns
    .command('receive')
    .description('the goods arrived: resellable units go back to stock, the received lines are refunded')
    .argument('<returnId>', 'the return', uuid)
    .requiredOption(
      '--line <productId:quantity:condition>',
      'a received line, condition RESTOCK or DAMAGED (repeat for each; fewer than asked for is fine)',
      receivedLine,
    )
    .option('--refund-shipping', 'refund the shipping too', false)
    .option('--note <text>', 'what arrived (recorded in the audit log)')
    .action(async (returnId: string, options: { line: ReceivedLine[]; refundShipping: boolean; note?: string }) => {
      const receipt = receiveBody.parse({
        lines: options.line,
        refundShipping: options.refundShipping,
        note: options.note,
      });
      print(await withOperations(actor(), (deps, actorId) => receiveReturnGoods(deps, returnId, receipt, actorId)));
    });

  returns
    .command('reject')
    .description('decline a return still waiting for its goods (the customer is emailed)')
    .argument('<returnId>', 'the return', uuid)
    .requiredOption('--reason <text>', 'why (recorded in the audit log and told to the customer)')
    .action(async (returnId: string, options: { reason: string }) =>
      print(await withOperations(actor(), (deps, actorId) => rejectReturn(deps, returnId, options.reason, actorId))),
    );

  const disputes = program.command('disputes').description('provider disputes (chargebacks): list, show, evidence');

  disputes
    .command('list')
    .description('disputes, the nearest evidence deadline first')
    .addOption(new Option('--status <status>').choices(disputeStates))
    .addOption(new Option('--provider <provider>', 'payment provider').choices(['STRIPE', 'RAZORPAY']))
    .option('--order <orderId>', 'only this order', uuid)
    .option('--limit <n>', 'at most this many', positiveInteger, 50)
    .action(async (options) =>
      print({
        disputes: await withOperations(actor(), ({ prisma }) =>
          listDisputes(prisma, {
            status: options.status,
            provider: options.provider,
            orderId: options.order,
            limit: options.limit,
          }),
        ),
      }),
    );

  disputes
    .command('show')
    .description('one dispute: amount, reason, evidence deadline, evidence, outcome')
    .argument('<disputeId>', 'our dispute id (disputeId in the list)', uuid)
    .action(async (disputeId: string) =>
      print(await withOperations(actor(), ({ prisma }) => showDispute(prisma, disputeId))),
    );

  disputes
    .command('evidence')
    .description("record that evidence was submitted (for Stripe, it is submitted through Stripe's API)")
    .argument('<disputeId>', 'our dispute id', uuid)
    .requiredOption('--note <text>', 'what was submitted (recorded in the audit log and sent to the provider)')
    .action(async (disputeId: string, options: { note: string }) => {
      const { note } = evidenceBody.parse({ note: options.note });
      print(await withOperations(actor(), (deps, actorId) => recordDisputeEvidence(deps, disputeId, note, actorId)));
    });
}
