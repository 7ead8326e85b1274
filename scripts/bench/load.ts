/**
 * The load the benchmark drives, the same for durable-commerce and for the raw-Temporal floor:
 * concurrent customers, each in a loop of checkout, then for a card order the payment's news
 * and polling until the order is CONFIRMED, as a storefront would; or, with a rate, orders
 * started at that rate whatever their latency (the latency budget is set at a rate). A target says how each step
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
  /**
   * Orders started per second, whatever the system's speed (open loop), each by one of the
   * `customers` in turn; unset, each customer starts its next order when its last is done.
   */
  rate?: number;
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
  /** Status reads made while card orders waited for CONFIRMED (the storefront's polling). */
  polls: number;
  errors: Map<string, number>;
}

const CONFIRM_WITHIN_MS = 30_000;

export async function runLoad(target: LoadTarget, options: LoadOptions): Promise<LoadFigures> {
  const figures: LoadFigures = {
    orders: 0,
    elapsedS: 0,
    checkoutMs: [],
    ackMs: [],
    confirmMs: [],
    polls: 0,
    errors: new Map(),
  };
  const fail = (what: string) => void figures.errors.set(what, (figures.errors.get(what) ?? 0) + 1);
  const deadline = options.seconds ? Date.now() + options.seconds * 1000 : Infinity;
  let started = 0;
  const more = () => Date.now() < deadline && (options.orders === undefined || started < options.orders);
  const done = () => options.onOrder?.(++figures.orders);

  /** One customer's order: checkout, then for a card order its payment and polling until CONFIRMED. */
  const journey = async (index: number) => {
    started++;
    const card = Math.random() < options.cardShare;
    const begun = performance.now();
    const placed = await target.checkout(index, card);
    if ('error' in placed) return fail(`checkout ${placed.error}`);
    figures.checkoutMs.push(performance.now() - begun);
    if (!card) return done();
    const paid = performance.now();
    const refused = await target.pay(index, placed.orderId, placed.paymentRef);
    figures.ackMs.push(performance.now() - paid);
    if (refused) return fail(`payment ${refused}`);
    for (;;) {
      figures.polls++;
      if ((await target.status(index, placed.orderId)) === 'CONFIRMED') {
        figures.confirmMs.push(performance.now() - paid);
        return done();
      }
      if (performance.now() - paid > CONFIRM_WITHIN_MS)
        return fail(`not CONFIRMED within ${CONFIRM_WITHIN_MS / 1000}s of its payment`);
      await sleep(20); // polling, as a storefront would
    }
  };
  const began = performance.now();
  if (options.rate) {
    // Open loop: a new order starts every 1/rate seconds however long the earlier ones take, so
    // latency is measured at that arrival rate (a closed loop would slow its arrivals instead).
    const journeys: Promise<void>[] = [];
    for (let i = 0; more(); i++) {
      const wait = began + (i * 1000) / options.rate - performance.now();
      if (wait > 0) await sleep(wait);
      journeys.push(journey(i % options.customers));
    }
    await Promise.all(journeys);
  } else {
    const customer = async (index: number) => {
      while (more()) await journey(index);
    };
    await Promise.all(Array.from({ length: options.customers }, (_, index) => customer(index)));
  }
  figures.elapsedS = (performance.now() - began) / 1000;
  return figures;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

function polls(figures: LoadFigures): string {
  return figures.confirmMs.length ? (figures.polls / figures.confirmMs.length).toFixed(1) : 'n/a';
}

export function summary(name: string, figures: LoadFigures): string {
  const errors = figures.errors.size ? [...figures.errors].map(([what, n]) => `${what}: ${n}`).join('; ') : 'none';
  return [
    `${name}`,
    `  orders done        ${figures.orders} in ${figures.elapsedS.toFixed(1)} s = ${rate(figures).toFixed(1)} per second`,
    `  checkout           ${percentiles(figures.checkoutMs)}`,
    `  payment ack        ${percentiles(figures.ackMs)}`,
    `  paid to CONFIRMED  ${percentiles(figures.confirmMs)}   (${figures.confirmMs.length} payments, ${polls(figures)} status reads each)`,
    `  errors             ${errors}`,
  ].join('\n');
}
