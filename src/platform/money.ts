/** The largest order total taken, in minor units: Stripe's largest charge (99,999,999 cents), within PostgreSQL's integer. */
export const MAX_ORDER_TOTAL = 99_999_999;

/** Formats integer minor units (cents, paise) for people, e.g. 4599 USD -> "$45.99". */
export function formatMoney(amountMinor: number, currency: string): string {
  const format = new Intl.NumberFormat('en', { style: 'currency', currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(amountMinor / 10 ** digits);
}
