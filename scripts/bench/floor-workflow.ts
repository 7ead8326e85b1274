/**
 * The floor the benchmark measures durable-commerce against: the order workflow's message
 * pattern on raw Temporal with activities that do nothing. Update-with-start answers after two
 * activities (reserve, open the payment), a signal reports the payment, three more activities
 * follow (record it, commit the sale, confirm), then the order waits for its shipment as real
 * orders do. Whatever durable-commerce spends above this is ours to explain.
 */
import { condition, defineQuery, defineSignal, defineUpdate, proxyActivities, setHandler } from '@temporalio/workflow';
import type { FloorActivities } from './floor-activities';

export const placeFloorOrder = defineUpdate<{ orderId: string; clientSecret: string }>('placeOrder');
export const floorPayment = defineSignal<[{ amount: number }]>('paymentEvent');
export const floorStatus = defineQuery<string>('getStatus');

const act = proxyActivities<FloorActivities>({ startToCloseTimeout: '10s' });

export async function floorOrderWorkflow(input: { orderId: string; awaitShipmentMs: number }): Promise<void> {
  const state = { status: 'PENDING', clientSecret: undefined as string | undefined, paid: false };
  setHandler(floorStatus, () => state.status);
  setHandler(floorPayment, () => void (state.paid = true));
  setHandler(placeFloorOrder, async () => {
    await condition(() => state.clientSecret !== undefined);
    return { orderId: input.orderId, clientSecret: state.clientSecret! };
  });

  await act.reserveStock(input.orderId);
  state.clientSecret = await act.openPayment(input.orderId);
  await condition(() => state.paid);
  await act.recordPayment(input.orderId);
  await act.commitSale(input.orderId);
  await act.sendConfirmation(input.orderId);
  state.status = 'CONFIRMED';
  await condition(() => false, input.awaitShipmentMs);
}
