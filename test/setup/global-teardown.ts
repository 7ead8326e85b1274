import { rmSync } from 'node:fs';
import { stopProcess } from '../../scripts/lib/services';

export default async function globalTeardown(): Promise<void> {
  await Promise.all((globalThis.__testServices ?? []).map((child) => stopProcess(child)));
  if (process.env.TEST_WORK_DIR) rmSync(process.env.TEST_WORK_DIR, { recursive: true, force: true });
}
