/**
 * The command-line argument parsers and prompts the scripts share (ops, bench, chaos): commander
 * calls each parser with the typed text and shows its InvalidArgumentError as a usage error.
 * Pure, so the unit tier checks them without a database.
 */
import { InvalidArgumentError } from 'commander';
import { createInterface } from 'node:readline';
import { duration } from '../../src/platform/config';

/** An ISO 8601 date. */
export function date(value: string): Date {
  const parsed = new Date(value);
  if (value.trim() === '' || Number.isNaN(parsed.getTime()))
    throw new InvalidArgumentError(`not a date: ${value} (use ISO 8601, e.g. 2026-01-15T00:00:00Z)`);
  return parsed;
}

/** A number above zero (hours to look back, a pause in milliseconds). */
export function positive(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !(parsed > 0) || !Number.isFinite(parsed))
    throw new InvalidArgumentError(`not a positive number: ${value}`);
  return parsed;
}

/** A number, zero or more (seconds of warm-up, where 0 means none). */
export function nonNegative(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !(parsed >= 0) || !Number.isFinite(parsed))
    throw new InvalidArgumentError(`not a number, zero or more: ${value}`);
  return parsed;
}

/** A whole number above zero (a limit, a page, how many customers). */
export function positiveInteger(value: string): number {
  const parsed = positive(value);
  if (!Number.isInteger(parsed)) throw new InvalidArgumentError(`not a whole number: ${value}`);
  return parsed;
}

/** A whole number, zero or more (a count on hand). */
export function count(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isInteger(parsed) || parsed < 0)
    throw new InvalidArgumentError(`not a count: ${value}`);
  return parsed;
}

/** A duration such as `10m` or `90s` (the config's own syntax), in whole seconds (at least one). */
export function seconds(value: string): number {
  const parsed = duration.safeParse(value);
  if (!parsed.success || parsed.data < 1000) throw new InvalidArgumentError(`not a duration of 1s or more: ${value}`);
  return Math.round(parsed.data / 1000);
}

/** Asks `question` and answers the line typed (or piped) on standard input; '' when there is none. */
export async function ask(question: string): Promise<string> {
  process.stderr.write(question);
  const lines = createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of lines) return line.trim();
    return '';
  } finally {
    lines.close();
  }
}

/** All of standard input ('' on a terminal): how secrets and passwords reach a command, never as arguments. */
export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** An ISO 4217 currency code, in capitals (usd -> USD). */
export function currencyCode(value: string): string {
  if (!/^[A-Za-z]{3}$/.test(value)) throw new InvalidArgumentError(`not a currency code such as USD: ${value}`);
  return value.toUpperCase();
}
