/** The low-stock workflow's contract: started by the low-stock schedules, one run per tick. */
export interface LowStockInput {
  /** ALERTS: email the crossings not yet sent; DIGEST: the daily list to every admin. */
  mode: 'ALERTS' | 'DIGEST';
}
