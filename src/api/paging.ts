/**
 * Keyset paging for lists shown newest first: the cursor names the last row of a page (its
 * creation time and id), so the next page starts right after it however many rows arrive in the
 * meantime. Opaque to clients; a cursor that is not one of ours is a 400 like any bad parameter.
 */
import { z } from 'zod';

export interface Cursor {
  createdAt: Date;
  id: string;
}

export function encodeCursor(row: Cursor): string {
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString('base64url');
}

export const cursorParam = z
  .string()
  .max(200)
  .transform((text, ctx): Cursor => {
    try {
      const [at, id] = JSON.parse(Buffer.from(text, 'base64url').toString()) as [string, string];
      const createdAt = new Date(at);
      if (!Number.isNaN(createdAt.getTime()) && z.uuid().safeParse(id).success) return { createdAt, id };
    } catch {
      // not JSON: reported below
    }
    ctx.addIssue({ code: 'custom', message: 'not a cursor from an earlier page' });
    return z.NEVER;
  });

/** Rows after `cursor`, newest first (createdAt, then id, both descending). */
export function after(cursor: Cursor | undefined) {
  if (!cursor) return {};
  return {
    OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }],
  };
}
export const newestFirst = [{ createdAt: 'desc' as const }, { id: 'desc' as const }];
