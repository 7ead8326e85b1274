/**
 * HTTP for CSV product imports (admin only): POST /admin/products/import takes the file as the
 * multipart field `file` (busboy streams it into storage as it arrives, so a large file is never
 * held whole) and answers the import's result, or 202 with its id for a file larger than
 * PRODUCT_IMPORT_WAIT_MAX_BYTES; GET /admin/products/imports/:id says where one stands. The
 * import itself is src/inventory/import-runs.ts.
 */
import busboy from 'busboy';
import { Router, type Request } from 'express';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { authenticate, currentUser, requireRole } from './auth';
import type { ApiDeps } from './deps';
import { parse } from './errors';
import { emptyMeansAbsent } from './inventory';
import { DomainError } from '../platform/errors';
import { ErrorCode } from '../workflows/vocabulary';
import {
  awaitProductImport,
  importOptions,
  importParams,
  importStatusQuery,
  productImportStatus,
  receiveProductImport,
  runProductImport,
  type StartedImport,
} from '../inventory/import-runs';

/** The multipart form, as OpenAPI documents it (the options may also be query parameters). */
export const importForm = importOptions.extend({
  file: z
    .string()
    .meta({ format: 'binary', description: 'The CSV: sku,name,description,price,stock,category,image_url[,currency]' }),
});

/**
 * Reads the multipart body: the file is handed to `store` as a stream while it arrives, with the
 * options from the query and the fields sent before it (a streamed form is read in order, so
 * fields after the file come too late to shape the import).
 */
function receiveImport(
  req: Request,
  store: (
    file: { source: Readable; fileName?: string },
    options: z.output<typeof importOptions>,
  ) => Promise<StartedImport>,
): Promise<StartedImport> {
  return new Promise((resolve, reject) => {
    let form: busboy.Busboy;
    try {
      form = busboy({ headers: req.headers, limits: { files: 1, fields: 10, fieldSize: 1000 } });
    } catch {
      return reject(
        new DomainError(ErrorCode.VALIDATION_ERROR, 'Send the CSV as multipart/form-data, in the field `file`', {
          contentType: req.get('content-type') ?? null,
        }),
      );
    }
    const fields: Record<string, string> = {};
    let stored: Promise<StartedImport> | undefined;
    const options = () => parse(importOptions, { ...emptyMeansAbsent(req.query), ...emptyMeansAbsent(fields) });
    form.on('field', (name, value) => (fields[name] = value));
    form.on('file', (name, stream, info) => {
      if (name !== 'file' || stored) return void stream.resume();
      // The options are checked before the first byte is stored: a bad currency refuses at once.
      try {
        stored = store({ source: stream, fileName: info.filename }, options());
      } catch (error) {
        stored = Promise.reject(error);
      }
      stored.catch(() => stream.resume()); // drain the rest so the answer can be sent
    });
    form.on('error', (error) =>
      reject(
        new DomainError(ErrorCode.VALIDATION_ERROR, `The multipart body is malformed: ${(error as Error).message}`),
      ),
    );
    form.on('close', () => {
      if (!stored)
        return reject(new DomainError(ErrorCode.VALIDATION_ERROR, 'The form has no field `file` with the CSV in it'));
      stored.then(resolve, reject);
    });
    req.pipe(form);
  });
}

export function productImportsRouter(deps: ApiDeps): Router {
  const router = Router();
  const admin = [authenticate(deps), requireRole('ADMIN')];

  router.post('/admin/products/import', ...admin, async (req, res) => {
    const actorId = currentUser(req).id;
    const received = await receiveImport(req, (file, options) => receiveProductImport(deps, file, options, actorId));
    // Temporal's deadline for this request starts once the file is in: a long upload costs it nothing.
    await deps.temporal.withDeadline(Date.now() + deps.config.API_TEMPORAL_DEADLINE, async () => {
      await runProductImport(deps, received.importId);
      if (received.fileBytes <= deps.config.PRODUCT_IMPORT_WAIT_MAX_BYTES) {
        // Answered when done; a file still running when the deadline passes is answered 202 instead.
        const result = await awaitProductImport(deps, received.importId);
        if (result.status !== 'RUNNING') return void res.json(result);
      }
      const status = await productImportStatus(deps, received.importId, { limit: 100 });
      res.status(202).location(`/admin/products/imports/${received.importId}`).json(status);
    });
  });

  router.get('/admin/products/imports/:id', ...admin, async (req, res) => {
    const { id } = parse(importParams, req.params);
    res.json(await productImportStatus(deps, id, parse(importStatusQuery, emptyMeansAbsent(req.query))));
  });

  return router;
}
