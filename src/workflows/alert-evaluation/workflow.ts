/**
 * One evaluation of the business alerts, started by the alert Schedule every
 * ALERT_EVALUATION_INTERVAL: the activity opens and resolves alerts and answers the notices owed;
 * each is emailed to every admin (once per notice key, however often retried) and then marked
 * sent. A run cut short leaves its notices owed, and the next run sends them.
 */
import { activitiesFor } from '../policies';
import type { AlertEvaluationResult } from './messages';

const act = activitiesFor('evaluateAlerts', 'markAlertNotified', 'alertAdmins');

export async function alertEvaluationWorkflow(): Promise<AlertEvaluationResult> {
  const notices = await act.evaluateAlerts();
  for (const notice of notices) {
    await act.alertAdmins({ key: notice.noticeKey, subject: notice.subject, text: notice.text });
    await act.markAlertNotified({ alertId: notice.alertId, kind: notice.kind });
  }
  return { notified: notices.map(({ noticeKey, kind }) => ({ noticeKey, kind })) };
}
