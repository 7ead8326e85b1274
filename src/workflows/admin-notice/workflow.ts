/**
 * Emails every active admin once about an operation someone ran (`admin-notice-<key>`): the
 * activity retries until SMTP takes the mail, and sends each admin's copy at most once.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';

const mail = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '5s', maximumInterval: '5m' },
});

export async function adminNoticeWorkflow(notice: { key: string; subject: string; text: string }): Promise<void> {
  await mail.alertAdmins(notice);
}
