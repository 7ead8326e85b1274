/**
 * GET /openapi.json over HTTP: a valid OpenAPI 3.1 document (checked by
 * @seriousme/openapi-schema-validator, in a child process: it is an ES module), naming every
 * route the Express app serves, with the request schemas the routes validate with; /docs serves
 * Swagger UI.
 */
import { execFile } from 'node:child_process';
import type { Express } from 'express';
import pino from 'pino';
import { createApp } from '../../src/api/app';
import { Keyring } from '../../src/keys/keyring';
import { keyringRazorpayGateway } from '../../src/payments/razorpay';
import { useStack } from '../helpers/stack';

const { stack } = useStack({ worker: false });

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every `METHOD /path` the app routes, walking its routers. */
function expressRoutes(app: Express): string[] {
  const found: string[] = [];
  const walk = (layers: Layer[]) => {
    for (const layer of layers) {
      if (layer.route)
        for (const [method, on] of Object.entries(layer.route.methods))
          if (on && method !== '_all') found.push(`${method.toUpperCase()} ${layer.route.path}`);
      if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return found;
}

async function validate(document: unknown): Promise<{ valid: boolean; errors?: unknown }> {
  const script = `
    import { Validator } from '@seriousme/openapi-schema-validator';
    let text = '';
    for await (const chunk of process.stdin) text += chunk;
    const result = await new Validator().validate(JSON.parse(text));
    process.stdout.write(JSON.stringify({ valid: result.valid, errors: result.errors }));`;
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, ['--input-type=module', '-e', script], (error, stdout) =>
      error ? reject(error) : resolve(JSON.parse(stdout)),
    );
    child.stdin!.end(JSON.stringify(document));
  });
}

test('the document is valid OpenAPI 3.1', async () => {
  const { status, body } = await stack.http.get('/openapi.json');
  expect(status).toBe(200);
  expect(body.openapi).toBe('3.1.0');
  expect(await validate(body)).toEqual({ valid: true });
});

test('every Express route is in the document (the rendered docs themselves aside)', async () => {
  const { body } = await stack.http.get('/openapi.json');
  const documented = new Set(
    Object.entries(body.paths as Record<string, Record<string, unknown>>).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    ),
  );
  const keyring = new Keyring(stack.prisma, stack.config);
  const razorpay = keyringRazorpayGateway(stack.config, keyring);
  const app = createApp({ ...stack, keyring, razorpay, logger: pino({ level: 'silent' }) });
  const served = expressRoutes(app).filter((route) => !route.includes(' /docs'));
  expect(served.length).toBeGreaterThan(40);
  expect(served.filter((route) => !documented.has(route))).toEqual([]);
});

test('request schemas are the zod schemas the routes validate with, and error codes are listed', async () => {
  const { body } = await stack.http.get('/openapi.json');
  const checkout = body.paths['/api/checkout'].post;
  const schema = checkout.requestBody.content['application/json'].schema;
  expect(schema.required).toEqual(expect.arrayContaining(['items']));
  expect(schema.properties.paymentMethod.enum).toEqual(expect.arrayContaining(['card', 'cod', 'wallet']));
  expect(checkout.responses['201']).toBeDefined();
  expect(checkout.responses['400'].description).toContain('VALIDATION_ERROR');
  expect(checkout.responses['409'].description).toContain('INSUFFICIENT_STOCK');
  expect(checkout.responses['401']).toBeDefined();
  const order = body.paths['/api/orders/{id}'].get;
  expect(order.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
  expect(order.responses['404'].description).toContain('NOT_FOUND');
  const alerts = body.paths['/admin/alerts'].get;
  expect(alerts.parameters.map((p: { name: string }) => p.name)).toEqual(['status', 'limit']);
  expect(alerts.responses['403']).toBeDefined();
});

test('/docs serves Swagger UI pointed at /openapi.json', async () => {
  const page = await fetch(`${stack.http.baseUrl}/docs/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('swagger-ui');
  const init = await fetch(`${stack.http.baseUrl}/docs/swagger-initializer.js`);
  expect(await init.text()).toContain("url: '/openapi.json'");
  expect((await fetch(`${stack.http.baseUrl}/docs/swagger-ui-bundle.js`)).status).toBe(200);
});
