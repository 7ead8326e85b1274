/**
 * Reading a product CSV and judging each of its rows, with csv-parse (quoted commas and quotes,
 * line breaks inside quotes, a byte-order mark, CRLF). Rows are numbered as a spreadsheet shows
 * them: the header is row 1, and a record spanning lines inside quotes is still one row. A batch
 * reads from a byte offset at a record boundary, so the import workflow can take a file of any
 * size a batch at a time, never reading it whole. Each row becomes the product it describes
 * (price from major units into the currency's minor units) or the reasons it is refused, each
 * naming its column.
 */
import { parse, type Info } from 'csv-parse';
import { pipeline, type Readable } from 'node:stream';
import { z } from 'zod';
import { toMinorUnits } from '../platform/money';
import { DomainError } from '../platform/errors';
import { ErrorCode } from '../workflows/vocabulary';
import { newProduct } from './catalogue';

export const requiredColumns = ['sku', 'name', 'price', 'stock'] as const;
export const optionalColumns = ['description', 'category', 'image_url', 'currency'] as const;
const knownColumns: readonly string[] = [...requiredColumns, ...optionalColumns];

/** What one row imports: a product without variants, its price in minor units. */
export type ImportedProduct = Omit<z.output<typeof newProduct>, 'variants'>;

export interface RowError {
  /** The header's name of the column at fault; absent when the row as a whole is (its number of values). */
  column?: string;
  reason: string;
}

export type RowVerdict = { blank: true } | { product: ImportedProduct } | { errors: RowError[] };

export interface CsvHeader {
  /** The header's column names, lower-cased, in file order. */
  columns: string[];
  /** Columns the import does not know and leaves alone. */
  ignored: string[];
  /** Where the first data row (row 2) starts, in bytes. */
  offset: number;
}

const csvOptions = { relax_column_count: true, skip_empty_lines: false, info: true } as const;

/** Records of `source` as csv-parse reads them, with where each ends; a syntax error is refused naming its row. */
async function* records(source: Readable, bom: boolean, firstRow: number) {
  const parser = parse({ ...csvOptions, bom });
  pipeline(source, parser, () => undefined); // errors surface through the parser below
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: Info }>)
      yield { fields: record, end: info.bytes_records, row: firstRow + info.records - 1 };
  } catch (error) {
    const lines = (error as { lines?: number }).lines;
    throw new DomainError(
      ErrorCode.VALIDATION_ERROR,
      `The file is not valid CSV: ${(error as Error).message}`,
      lines === undefined ? undefined : { line: lines },
    );
  }
}

/** Reads and checks the header (row 1): every required column once; unknown columns are ignored. */
export async function readHeader(source: Readable): Promise<CsvHeader> {
  for await (const { fields, end } of records(source, true, 1)) {
    const columns = fields.map((name) => name.trim().toLowerCase());
    const missing = requiredColumns.filter((name) => !columns.includes(name));
    const repeated = columns.filter((name, i) => name && columns.indexOf(name) !== i);
    if (missing.length > 0 || repeated.length > 0)
      throw new DomainError(
        ErrorCode.VALIDATION_ERROR,
        missing.length > 0
          ? `The header (row 1) lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`
          : `The header (row 1) repeats the column ${repeated.join(', ')}`,
        { missing, repeated, expected: [...requiredColumns, ...optionalColumns] },
      );
    return { columns, ignored: columns.filter((name) => !knownColumns.includes(name)), offset: end };
  }
  throw new DomainError(ErrorCode.VALIDATION_ERROR, 'The file is empty: it needs a header row', {
    expected: [...requiredColumns, ...optionalColumns],
  });
}

export interface RowBatch {
  rows: { row: number; fields: string[] }[];
  /** Where the row after the last one read starts (absolute, in bytes). */
  offset: number;
  /** The file has no rows after these. */
  done: boolean;
}

/** Up to `limit` rows starting at byte `offset` (a record boundary), which is row `firstRow`. */
export async function readRows(
  source: Readable,
  at: { offset: number; firstRow: number; limit: number },
): Promise<RowBatch> {
  const rows: RowBatch['rows'] = [];
  let offset = at.offset;
  for await (const record of records(source, false, at.firstRow)) {
    // One record past the batch says whether there is more; it is read again by the next batch.
    if (rows.length === at.limit) {
      source.destroy();
      return { rows, offset, done: false };
    }
    rows.push({ row: record.row, fields: record.fields });
    offset = at.offset + record.end;
  }
  return { rows, offset, done: true };
}

const productColumn: Record<string, string> = { imageUrl: 'image_url' };

/** Judges one row against the header's columns; `currency` is the import's, for rows without their own. */
export function judgeRow(columns: string[], fields: string[], currency: string): RowVerdict {
  if (fields.every((value) => value.trim() === '')) return { blank: true };
  if (fields.length !== columns.length)
    return { errors: [{ reason: `The row has ${fields.length} values; the header has ${columns.length} columns` }] };
  const value = (name: string) => {
    const i = columns.indexOf(name);
    return i < 0 ? '' : fields[i].trim();
  };
  const errors: RowError[] = [];
  const rowCurrency = (value('currency') || currency).toUpperCase();
  if (!isCurrency(rowCurrency))
    errors.push({ column: 'currency', reason: `${rowCurrency.slice(0, 20)} is not an ISO 4217 currency code` });
  const price = isCurrency(rowCurrency) ? toMinorUnits(value('price'), rowCurrency) : undefined;
  if (price && !price.ok) errors.push({ column: 'price', reason: `Invalid price: ${price.reason}` });
  const stockText = value('stock');
  if (!/^\d+$/.test(stockText))
    errors.push({
      column: 'stock',
      reason: `Invalid stock: "${stockText.slice(0, 40)}" is not a whole number of units`,
    });
  const imageUrl = value('image_url');
  if (imageUrl && !/^https?:\/\//i.test(imageUrl))
    errors.push({ column: 'image_url', reason: 'Invalid image URL: it must start with http:// or https://' });

  const parsed = newProduct.omit({ variants: true }).safeParse({
    sku: value('sku'),
    name: value('name'),
    price: price?.ok ? price.value : 0,
    currency: rowCurrency,
    stock: Number(stockText) || 0,
    description: value('description') || undefined,
    category: value('category') || undefined,
    imageUrl: imageUrl || undefined,
  });
  if (!parsed.success)
    for (const issue of parsed.error.issues) {
      const field = String(issue.path[0] ?? '');
      const column = productColumn[field] ?? field;
      if (!errors.some((e) => e.column === column))
        errors.push({ column, reason: `Invalid ${column.replace('_', ' ')}: ${issue.message}` });
    }
  if (errors.length > 0) return { errors: errors.sort((a, b) => columnOrder(columns, a) - columnOrder(columns, b)) };
  return { product: parsed.data! };
}

function columnOrder(columns: string[], error: RowError): number {
  return error.column ? columns.indexOf(error.column) : -1;
}

/** A three-letter code Intl knows as a currency (its minor units are then known too). */
export function isCurrency(code: string): boolean {
  currencies ??= new Set(Intl.supportedValuesOf('currency'));
  return currencies.has(code);
}
let currencies: Set<string> | undefined;
