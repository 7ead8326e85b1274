/**
 * Money is integer minor units with an ISO currency everywhere inside the system. This module is
 * where amounts cross to and from the major units people read and type (a price in a CSV, an
 * email): the number of minor-unit digits comes from the currency itself (ISO 4217 via Intl), so
 * 19.99 USD is 1999, 1299 JPY is 1299 and 1.250 KWD is 1250.
 */

/** The largest order total taken, in minor units: Stripe's largest charge (99,999,999 cents), within PostgreSQL's integer. */
export const MAX_ORDER_TOTAL = 99_999_999;

/** The digits after the decimal point of `currency`'s major unit (2 for USD, 0 for JPY, 3 for KWD); throws RangeError for a code that is no currency. */
export function currencyExponent(currency: string): number {
  let exponent = exponents.get(currency);
  if (exponent === undefined) {
    const format = new Intl.NumberFormat('en', { style: 'currency', currency });
    exponent = format.resolvedOptions().maximumFractionDigits ?? 2;
    exponents.set(currency, exponent);
  }
  return exponent;
}
const exponents = new Map<string, number>();

/**
 * Formats integer minor units (cents, paise) for people, e.g. 4599 USD -> "$45.99". A formatter
 * is made once per currency: making one loads ICU's data for it, about a millisecond of CPU, and
 * every confirmation email formats its lines and total (issue 18).
 */
export function formatMoney(amountMinor: number, currency: string): string {
  let format = formatters.get(currency);
  if (!format) {
    format = new Intl.NumberFormat('en', { style: 'currency', currency });
    formatters.set(currency, format);
  }
  return format.format(amountMinor / 10 ** currencyExponent(currency));
}
const formatters = new Map<string, Intl.NumberFormat>();

/**
 * A price typed in major units ("19.99", "1299", "0.5") as integer minor units of `currency`,
 * exactly (decimal digits, never floating point), or why it is not one: a sign, a symbol, a
 * thousands separator or more decimals than the currency has are refused, not guessed at.
 */
export function toMinorUnits(
  text: string,
  currency: string,
): { ok: true; value: number } | { ok: false; reason: string } {
  const trimmed = text.trim();
  const match = /^(\d+)(?:\.(\d*))?$/.exec(trimmed);
  if (!match) return { ok: false, reason: `"${trimmed.slice(0, 40)}" is not a price in major units such as 19.99` };
  const exponent = currencyExponent(currency);
  const decimals = (match[2] ?? '').replace(/0+$/, '');
  if (decimals.length > exponent)
    return {
      ok: false,
      reason: `${trimmed} has more decimal places than ${currency} has (${exponent})`,
    };
  const value = Number(match[1]) * 10 ** exponent + Number(decimals.padEnd(exponent, '0') || '0');
  if (!Number.isSafeInteger(value)) return { ok: false, reason: `${trimmed} is too large` };
  return { ok: true, value };
}
