/**
 * One evaluation of the business alerts, started by the alert Schedule every
 * ALERT_EVALUATION_INTERVAL: the activity opens and resolves alerts and answers the notices owed;
 * each is emailed to every admin (once per notice key, however often retried) and then marked
 * sent. A run cut short leaves its notices owed, and the next run sends them.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { AlertEvaluationResult } from './messages';

const evaluation = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 5 },
});
const mail = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '5s', maximumInterval: '5m' },
});

export async function alertEvaluationWorkflow(): Promise<AlertEvaluationResult> {
  const notices = await evaluation.evaluateAlerts();
  for (const notice of notices) {
    await mail.alertAdmins({ key: notice.noticeKey, subject: notice.subject, text: notice.text });
    await evaluation.markAlertNotified({ alertId: notice.alertId, kind: notice.kind });
  }
  return { notified: notices.map(({ noticeKey, kind }) => ({ noticeKey, kind })) };
}
