import { stopProcess } from '../../scripts/lib/services';

export default async function globalTeardown(): Promise<void> {
  await Promise.all((globalThis.__testServices ?? []).map((child) => stopProcess(child)));
}
