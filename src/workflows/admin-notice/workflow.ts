/**
 * Emails every active admin once about an operation someone ran (`admin-notice-<key>`): the
 * activity retries until SMTP takes the mail, and sends each admin's copy at most once.
 */
import { activitiesFor } from '../policies';
import type { AdminNotice } from './messages';

const act = activitiesFor('alertAdmins');

export async function adminNoticeWorkflow(notice: AdminNotice): Promise<void> {
  await act.alertAdmins(notice);
}
