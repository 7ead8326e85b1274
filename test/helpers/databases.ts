/**
 * A database of a test file's own, beside the suite's (DATABASE_URL), for tests that need one
 * nobody else writes to: a ledger race, a time zone, a pooler in front, a keyring's copy.
 */
import { randomUUID } from 'node:crypto';
import { migrate } from '../../scripts/migrate';

/** Creates and migrates `<suite database>_<label>_<8 hex>`; answers its URL. Drop it with dropDatabase. */
export async function migratedScratchDatabase(label: string): Promise<string> {
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `${url.pathname}_${label}_${randomUUID().slice(0, 8)}`;
  await migrate(url.toString());
  return url.toString();
}
