/**
 * Issue 13 point 6: the Web UI approval flow as the README tells it, in a real browser (Debian's
 * chromium through playwright-core) against a Temporal dev server of its own with the Web UI on
 * and our codec as its cluster-level endpoint. The admin signs in at /codec/login, points the
 * UI's codec settings at the endpoint from the browser (the only way the UI sends the cookie),
 * sees the refund's input in clear, approves it from "Send a Signal" naming themself by EMAIL,
 * and sees the refund complete.
 */
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { freePort, startTemporalDevServer } from '../../scripts/lib/services';
import { eventually, useStack } from '../helpers/stack';
import { ensureChromium, launchChromium } from '../helpers/browser';
import { walletOrderAwaitingRefund } from '../helpers/orders';

jest.setTimeout(15 * 60_000);

let temporalPort: number;
let uiPort: number;
let uiUrl: string;
beforeAll(async () => {
  ensureChromium();
  [temporalPort, uiPort] = [await freePort(), await freePort()];
  uiUrl = `http://127.0.0.1:${uiPort}`;
});
// The API first (its Temporal client connects lazily), so the UI can be told where its codec is.
const { stack, admin, beforeStop } = useStack(() => ({
  worker: false,
  env: { TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`, TEMPORAL_UI_ORIGINS: uiUrl },
}));
let temporal: ChildProcess;
let browser: BrowserContext;
beforeAll(async () => {
  const server = await startTemporalDevServer({
    port: temporalPort,
    uiPort,
    codecEndpoint: `${stack.http.baseUrl}/codec`,
    logFile: path.join(process.env.TEST_WORK_DIR ?? '/tmp', `temporal-ui-${temporalPort}.log`),
  });
  temporal = server.process;
  await stack.startWorker();
  browser = await launchChromium();
});
beforeStop(() => browser?.close());
afterAll(() => temporal?.kill('SIGTERM')); // after the stack stops

/** A wallet-paid order with a refund request waiting for an admin (test/helpers/orders.ts). */
const pendingRefund = (reason: string) => walletOrderAwaitingRefund(stack, admin, { price: 4200, reason });

async function signInToCodec(page: Page): Promise<void> {
  await page.goto(`${stack.http.baseUrl}/codec/login`);
  await page.getByLabel('Email').fill(admin.email);
  await page.getByLabel('Password').fill('correct horse battery staple');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Signed in.').waitFor();
}

/** The UI's codec settings: the endpoint set in this browser, with cross-origin credentials. */
async function pointUiAtCodec(page: Page): Promise<void> {
  await page.goto(`${uiUrl}/namespaces/default/workflows`);
  await page.getByTestId('data-encoder-status-configured').click();
  await page.getByRole('button', { name: /Use Cluster-level setting/ }).click();
  await page.getByLabel(/Use my browser setting and ignore Cluster-level setting/).check();
  await page.getByPlaceholder('Paste your endpoint here').fill(`${stack.http.baseUrl}/codec`);
  // The switch is a visually hidden checkbox under its label: toggled as a keyboard user would.
  const credentials = page.getByLabel('Include cross-origin credentials');
  await credentials.focus();
  await page.keyboard.press('Space');
  expect(await credentials.isChecked()).toBe(true);
  await page.getByRole('button', { name: 'Apply' }).click();
}

test('an admin signs in, reads the refund in clear, approves it by email from "Send a Signal", and it completes', async () => {
  const reason = `The lamp arrived broken ${randomUUID().slice(0, 8)}`;
  const { refundId } = await pendingRefund(reason);
  const page = browser.pages()[0] ?? (await browser.newPage());
  try {
    await signInToCodec(page);
    await pointUiAtCodec(page);
    await page.goto(`${uiUrl}/namespaces/default/workflows/refund-${refundId}`);
    // The input, decoded by our codec with the admin's cookie: the customer's own words.
    await page.getByText(reason).first().waitFor({ timeout: 60_000 });

    await sendSignal(page, 'approveRefund', { adminId: admin.email, reason: 'checked the photos' });
    await eventually(
      async () => (await stack.prisma.refund.findUnique({ where: { id: refundId } }))?.status === 'COMPLETED',
      'the refund COMPLETED',
      60_000,
    );
    const refund = await stack.prisma.refund.findUniqueOrThrow({ where: { id: refundId } });
    expect(refund.decidedBy).toBe(admin.id); // the email named the account
    const audited = await stack.http.get(`/admin/audit?action=REFUND_APPROVED&targetId=${refundId}`, admin.token);
    expect(audited.body.entries).toEqual([
      expect.objectContaining({
        actorId: admin.id,
        after: expect.objectContaining({ via: 'temporal-signal', named: admin.email }),
      }),
    ]);
    await page.reload();
    await page.getByText('COMPLETED').first().waitFor({ timeout: 60_000 });
  } catch (error) {
    const shot = path.join(process.env.TEST_WORK_DIR ?? os.tmpdir(), 'web-ui-approval-failure.png');
    await page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
    const buttons = await page
      .locator('button')
      .evaluateAll((els) =>
        els.map((e) => `${e.getAttribute('data-testid') ?? ''}|${e.textContent?.trim().slice(0, 40)}`),
      );
    throw new Error(`${(error as Error).message}\nscreenshot: ${shot}\nbuttons: ${buttons.join(', ')}`);
  }
});

async function sendSignal(page: Page, name: string, input: unknown): Promise<void> {
  await page.getByRole('button', { name: 'More Actions' }).locator('visible=true').first().click();
  await page.getByText('Send a Signal').locator('visible=true').first().click();
  const dialog = page.getByRole('dialog').locator('visible=true').first();
  await dialog.getByTestId('signal-select-button').click();
  await page.getByRole('option', { name }).locator('visible=true').first().click();
  const editor = dialog.locator('.cm-content').last();
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.insertText(JSON.stringify(input));
  await dialog.getByRole('button', { name: 'Submit' }).click();
}
