/**
 * A real browser for the Web UI tests: Debian's chromium (installed with apt-get when missing:
 * the project never downloads a browser build of its own) driven by playwright-core, headless,
 * with a fresh profile each time.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Installs Debian's chromium when it is not there yet (the test machines run as root). */
export function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  execFileSync('bash', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium'], {
    stdio: 'inherit',
    timeout: 15 * 60_000,
  });
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed no ${CHROMIUM}`);
}

export async function launchChromium(): Promise<BrowserContext> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'durable-commerce-chromium-'));
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 1800 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
