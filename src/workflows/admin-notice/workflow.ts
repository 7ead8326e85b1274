/**
 * Emails every active admin once about an operation someone ran (`admin-notice-<key>`): the
 * activity retries until SMTP takes the mail, and sends each admin's copy at most once.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { AdminNotice } from './messages';

const mail = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '5s', maximumInterval: '5m' },
});

export async function adminNoticeWorkflow(notice: AdminNotice): Promise<void> {
  await mail.alertAdmins(notice);
}
