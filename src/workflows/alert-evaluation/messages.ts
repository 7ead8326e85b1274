/** The alert evaluation workflow's contract: started by its Schedule, it takes nothing and answers what it sent. */
export interface AlertEvaluationResult {
  /** The notices (openings, resolutions) emailed to the admins by this run. */
  notified: { noticeKey: string; kind: 'OPENED' | 'RESOLVED' }[];
}
