/**
 * The load the benchmark drives, the same for durable-commerce and for the raw-Temporal floor:
 * concurrent customers, each in a loop of checkout, then for a card order the payment's news
 * and polling until the order is CONFIRMED, as a storefront would. A target says how each step
 * is done; this module only times them.
 */
export type CheckoutResult = { orderId: string; paymentRef?: string } | { error: string };

export interface LoadTarget {
  checkout(customer: number, card: boolean): Promise<CheckoutResult>;
  /** Delivers the payment's news; answers an error text, or nothing when it was accepted. */
  pay(customer: number, orderId: string, paymentRef: string | undefined): Promise<string | undefined>;
  status(customer: number, orderId: string): Promise<string | undefined>;
}

export interface LoadOptions {
  customers: number;
  cardShare: number;
  /** Stop after this long, or once this many orders are done, whichever is set. */
  seconds?: number;
  orders?: number;
  /** Called once per order done, with the count so far. */
  onOrder?: (done: number) => void;
}

export interface LoadFigures {
  orders: number;
  elapsedS: number;
  checkoutMs: number[];
  ackMs: number[];
  confirmMs: number[];
  errors: Map<string, number>;
}

const CONFIRM_WITHIN_MS = 30_000;

export async function runLoad(target: LoadTarget, options: LoadOptions): Promise<LoadFigures> {
  const figures: LoadFigures = { orders: 0, elapsedS: 0, checkoutMs: [], ackMs: [], confirmMs: [], errors: new Map() };
  const fail = (what: string) => figures.errors.set(what, (figures.errors.get(what) ?? 0) + 1);
  const deadline = options.seconds ? Date.now() + options.seconds * 1000 : Infinity;
  let started = 0;
  const more = () => Date.now() < deadline && (options.orders === undefined || started < options.orders);
  const done = () => options.onOrder?.(++figures.orders);

  const customer = async (index: number) => {
    while (more()) {
      started++;
      const card = Math.random() < options.cardShare;
      const begun = performance.now();
      const placed = await target.checkout(index, card);
      if ('error' in placed) {
        fail(`checkout ${placed.error}`);
        continue;
      }
      figures.checkoutMs.push(performance.now() - begun);
      if (!card) {
        done();
        continue;
      }
      const paid = performance.now();
      const refused = await target.pay(index, placed.orderId, placed.paymentRef);
      figures.ackMs.push(performance.now() - paid);
      if (refused) {
        fail(`payment ${refused}`);
        continue;
      }
      for (;;) {
        if ((await target.status(index, placed.orderId)) === 'CONFIRMED') {
          figures.confirmMs.push(performance.now() - paid);
          done();
          break;
        }
        if (performance.now() - paid > CONFIRM_WITHIN_MS) {
          fail(`not CONFIRMED within ${CONFIRM_WITHIN_MS / 1000}s of its payment`);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 20)); // polling, as a storefront would
      }
    }
  };
  const began = performance.now();
  await Promise.all(Array.from({ length: options.customers }, (_, index) => customer(index)));
  figures.elapsedS = (performance.now() - began) / 1000;
  return figures;
}

export function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function percentiles(values: number[]): string {
  if (values.length === 0) return 'n/a';
  const at = (p: number) => percentile(values, p)!.toFixed(0);
  return `p50 ${at(50)} ms, p95 ${at(95)} ms, p99 ${at(99)} ms, max ${Math.max(...values).toFixed(0)} ms`;
}

export function rate(figures: LoadFigures): number {
  return figures.orders / figures.elapsedS;
}

export function summary(name: string, figures: LoadFigures): string {
  const errors = figures.errors.size ? [...figures.errors].map(([what, n]) => `${what}: ${n}`).join('; ') : 'none';
  return [
    `${name}`,
    `  orders done        ${figures.orders} in ${figures.elapsedS.toFixed(1)} s = ${rate(figures).toFixed(1)} per second`,
    `  checkout           ${percentiles(figures.checkoutMs)}`,
    `  payment ack        ${percentiles(figures.ackMs)}`,
    `  paid to CONFIRMED  ${percentiles(figures.confirmMs)}   (${figures.confirmMs.length} payments)`,
    `  errors             ${errors}`,
  ].join('\n');
}
