/** The admin notice workflow's contract (`admin-notice-<key>`): one email to every active admin. */
export interface AdminNotice {
  /** Names the occasion; each admin gets one mail per key. */
  key: string;
  subject: string;
  text: string;
}
