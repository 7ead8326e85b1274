/**
 * GET /openapi.json (OpenAPI 3.1) and GET /docs (Swagger UI from its npm package). The request
 * schemas are the very zod schemas the routes validate with, rendered by zod's own
 * z.toJSONSchema (JSON Schema 2020-12, OpenAPI 3.1's dialect), so the document cannot drift
 * from what is enforced; the table below only says which schema each route takes and which
 * error codes it answers. test/e2e/openapi.test.ts fails when an Express route is missing here.
 */
import express, { Router } from 'express';
import path from 'node:path';
import { z } from 'zod';
import { routes, type RouteDoc } from './openapi-routes';

type Schema = z.ZodType;

const jsonSchema = (schema: Schema) =>
  z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;

function parameters(where: 'query' | 'path', schema?: Schema) {
  if (!schema) return [];
  const rendered = jsonSchema(schema) as { properties?: Record<string, object>; required?: string[] };
  return Object.entries(rendered.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (rendered.required ?? []).includes(name),
    schema: property,
  }));
}

const errorRef = { $ref: '#/components/schemas/Error' };
function responses(doc: RouteDoc) {
  const errors: Record<number, string[]> = {};
  const add = (status: number, codes: string[]) =>
    (errors[status] = [...new Set([...(errors[status] ?? []), ...codes])]);
  if (doc.body || doc.multipart || doc.query || doc.params) add(400, ['VALIDATION_ERROR']);
  if (doc.multipart) add(413, ['PAYLOAD_TOO_LARGE']);
  if (doc.body) {
    add(400, ['MALFORMED_JSON']);
    add(413, ['PAYLOAD_TOO_LARGE']);
  }
  if (doc.who === 'customer' || doc.who === 'admin' || doc.who === 'user') add(401, ['UNAUTHENTICATED']);
  if (doc.who === 'customer' || doc.who === 'admin') add(403, ['FORBIDDEN']);
  for (const [status, codes] of Object.entries(doc.errors ?? {})) add(Number(status), codes);
  const answer: Record<string, object> = { [doc.ok ?? 200]: { description: 'Success' } };
  for (const [status, codes] of Object.entries(errors))
    answer[status] = {
      description: codes.length ? `Error codes: ${codes.join(', ')}` : 'Failure',
      content: { 'application/json': { schema: errorRef } },
    };
  return answer;
}

/** The OpenAPI 3.1 document of every route in `routes`. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, object>> = {};
  for (const [key, doc] of Object.entries(routes)) {
    const [method, route] = key.split(' ');
    const path = route.replace(/:(\w+)/g, '{$1}');
    paths[path] ??= {};
    paths[path][method.toLowerCase()] = {
      summary: doc.summary,
      operationId: `${method.toLowerCase()}${route.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string) => (c ?? '').toUpperCase())}`,
      tags: [route.split('/')[1] || 'system'],
      ...(['customer', 'admin', 'user'].includes(doc.who) ? { security: [{ bearer: [] }] } : {}),
      ...(doc.who !== 'anyone' ? { description: `Who: ${doc.who}` } : {}),
      parameters: [...parameters('path', doc.params), ...parameters('query', doc.query)],
      ...(doc.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(doc.body) } } } }
        : {}),
      ...(doc.multipart
        ? { requestBody: { required: true, content: { 'multipart/form-data': { schema: jsonSchema(doc.multipart) } } } }
        : {}),
      responses: responses(doc),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'durable-commerce',
      version: '0.1.0',
      description: 'Orders, payments, refunds and operations as durable Temporal workflows.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
            },
          },
        },
      },
    },
  };
}

export function openApiRouter(): Router {
  const router = Router();
  let document: Record<string, unknown> | undefined;
  router.get('/openapi.json', (_req, res) => {
    document ??= openApiDocument();
    res.json(document);
  });
  // Swagger UI's own files, with an initializer of ours pointing it at /openapi.json (no inline script).
  router.get('/docs/swagger-initializer.js', (_req, res) => {
    res
      .type('application/javascript')
      .send(
        "window.onload = () => { window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui' }); };\n",
      );
  });
  // The package's folder, found without loading its main module: that evaluates the 1.5 MB
  // browser bundle in Node, a second of CPU at every start of the API on a busy machine.
  const swaggerUi = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  router.use('/docs', express.static(swaggerUi, { index: 'index.html' }));
  return router;
}
