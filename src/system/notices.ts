/**
 * Emails to every admin about an operation (maintenance switched, queries terminated, a
 * restore), sent by a short workflow so that an SMTP hiccup is retried and each mail goes once
 * (workflow id `admin-notice-<key>`, and the alertAdmins activity's own per-key claim). The
 * operation itself never waits on it nor fails because of it: in an incident Temporal may be
 * down too, and the answer then says the admins were not told.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Config } from '../platform/config';
import type { Logger } from '../platform/logger';
import type { adminNoticeWorkflow } from '../workflows/admin-notice/workflow';
import type { AdminNotice } from '../workflows/admin-notice/messages';

export type { AdminNotice };

export async function notifyAdmins(
  deps: { temporal: Client; config: Pick<Config, 'TEMPORAL_TASK_QUEUE'>; logger?: Logger },
  notice: AdminNotice,
): Promise<boolean> {
  try {
    await deps.temporal.workflow.start<typeof adminNoticeWorkflow>('adminNoticeWorkflow', {
      workflowId: `admin-notice-${notice.key}`,
      taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
      args: [notice],
    });
    return true;
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return true;
    deps.logger?.warn({ err: error, key: notice.key }, 'could not start the admin notice');
    return false;
  }
}
