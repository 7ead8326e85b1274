/**
 * An import's file, kept in PostgreSQL in fixed-size pieces (product_import_chunks). An upload is
 * written piece by piece as it arrives, hashing as it goes, so the API never holds more than one
 * piece of a 10,000-row file; a batch of the import workflow reads from a byte offset onwards,
 * piece by piece, so a worker never holds the file either. In the database rather than on a disk,
 * so the API and any worker may read it wherever each runs.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PrismaClient } from '../platform/db';
import { DomainError } from '../platform/errors';
import { ErrorCode } from '../workflows/vocabulary';

/** Bytes per stored piece: small enough to hold, large enough that a 1 MB file is four rows. */
export const CHUNK_BYTES = 256 * 1024;

export interface StoredUpload {
  uploadId: string;
  sha256: string;
  bytes: number;
}

/**
 * Writes `source` as a new upload, a piece at a time (backpressure: the next piece is read once
 * the last is written). Refuses past `maxBytes` with 413 PAYLOAD_TOO_LARGE, leaving nothing stored.
 */
export async function storeUpload(prisma: PrismaClient, source: Readable, maxBytes: number): Promise<StoredUpload> {
  const uploadId = randomUUID();
  const hash = createHash('sha256');
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let bytes = 0;
  let seq = 0;
  /** Writes every full piece held (and, at the end, the partial last one); keeps the rest. */
  const flush = async (last: boolean) => {
    let whole = Buffer.concat(pending, pendingBytes);
    while (whole.length >= CHUNK_BYTES || (last && whole.length > 0)) {
      const data = whole.subarray(0, Math.min(CHUNK_BYTES, whole.length));
      await prisma.productImportChunk.create({ data: { uploadId, seq: seq++, data: new Uint8Array(data) } });
      whole = whole.subarray(data.length);
    }
    pending = whole.length > 0 ? [Buffer.from(whole)] : [];
    pendingBytes = whole.length;
  };
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        done(new DomainError(ErrorCode.PAYLOAD_TOO_LARGE, `The file is larger than ${maxBytes} bytes`, { maxBytes }));
        return;
      }
      hash.update(chunk);
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes < CHUNK_BYTES) return done();
      flush(false).then(() => done(), done);
    },
    final(done) {
      flush(true).then(() => done(), done);
    },
  });
  try {
    await pipeline(source, sink);
  } catch (error) {
    await discardUpload(prisma, uploadId);
    throw error;
  }
  return { uploadId, sha256: hash.digest('hex'), bytes };
}

/** Removes an upload's pieces: a file that turned out to be one already imported, or a failed upload. */
export async function discardUpload(prisma: PrismaClient, uploadId: string): Promise<void> {
  await prisma.productImportChunk.deleteMany({ where: { uploadId } });
}

/** The upload's bytes from `offset` to its end, read a piece at a time as the consumer asks for them. */
export function readUpload(prisma: PrismaClient, uploadId: string, offset: number): Readable {
  let seq = Math.floor(offset / CHUNK_BYTES);
  let skip = offset - seq * CHUNK_BYTES;
  return new Readable({
    read() {
      prisma.productImportChunk.findUnique({ where: { uploadId_seq: { uploadId, seq } } }).then(
        (chunk) => {
          if (!chunk) return void this.push(null);
          seq++;
          const data = Buffer.from(chunk.data);
          this.push(skip > 0 ? data.subarray(skip) : data);
          skip = 0;
        },
        (error: Error) => this.destroy(error),
      );
    },
  });
}
