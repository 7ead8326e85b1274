/**
 * Money is integer minor units with an ISO currency everywhere inside the system. This module is
 * where amounts cross to and from the major units people read and type (a price in a CSV, an
 * email): the number of minor-unit digits comes from the currency itself (ISO 4217 via Intl), so
 * 19.99 USD is 1999, 1299 JPY is 1299 and 1.250 KWD is 1250.
 */

/** The largest order total taken, in minor units: Stripe's largest charge (99,999,999 cents), within PostgreSQL's integer. */
export const MAX_ORDER_TOTAL = 99_999_999;

/**
 * `currency`'s formatter and its minor-unit digits, made once per currency: making a formatter
 * loads ICU's data for it, about a millisecond of CPU, and every confirmation email formats its
 * lines and total (issue 18). Throws RangeError for a code that is no currency.
 */
function currencyFormat(currency: string): { format: Intl.NumberFormat; exponent: number } {
  let known = formats.get(currency);
  if (!known) {
    const format = new Intl.NumberFormat('en', { style: 'currency', currency });
    known = { format, exponent: format.resolvedOptions().maximumFractionDigits ?? 2 };
    formats.set(currency, known);
  }
  return known;
}
const formats = new Map<string, { format: Intl.NumberFormat; exponent: number }>();

/** The digits after the decimal point of `currency`'s major unit (2 for USD, 0 for JPY, 3 for KWD); throws RangeError for a code that is no currency. */
export function currencyExponent(currency: string): number {
  return currencyFormat(currency).exponent;
}

/** Formats integer minor units (cents, paise) for people, e.g. 4599 USD -> "$45.99". */
export function formatMoney(amountMinor: number, currency: string): string {
  const { format, exponent } = currencyFormat(currency);
  return format.format(amountMinor / 10 ** exponent);
}

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
