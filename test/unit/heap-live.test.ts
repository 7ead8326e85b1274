/**
 * durable_commerce_heap_live_bytes: after a full garbage collection the gauge holds the heap that
 * survived it, which is what a leak would grow.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { registry } from '../../src/monitoring/metrics';

const liveHeap = async () =>
  Number(/^durable_commerce_heap_live_bytes (\S+)$/m.exec(await registry.metrics())?.[1] ?? NaN);

/** Runs a full collection and answers the gauge once Node has reported it (asynchronously). */
async function collect(gc: () => void): Promise<number> {
  const before = await liveHeap();
  gc();
  for (let tries = 0; tries < 200; tries++) {
    const now = await liveHeap();
    if (now !== before) return now;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('no full collection was reported within 2 s');
}

test('a full collection sets the live heap, and garbage freed by it is not counted', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const held = { arrays: Array.from({ length: 200 }, () => new Array<number>(10_000).fill(1)) }; // ~16 MiB
  const holding = await collect(gc);
  expect(holding).toBeGreaterThan(16 * 1024 * 1024);

  held.arrays = [];
  const freed = await collect(gc);
  expect(holding - freed).toBeGreaterThan(12 * 1024 * 1024);
});
