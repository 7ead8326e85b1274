/**
 * The runbook's "Bulk Product Import" over HTTP (POST /admin/products/import, multipart): a file
 * with good rows and bad rows of every kind, answered with each bad row's spreadsheet row number
 * and column; valid rows landed with their opening stock in the ledger (IMPORT) and prices in
 * minor units by currency; the same file posted again is the same import; a dry run writes
 * nothing; a file refused as a whole; a large file answered 202 and followed to its end through
 * GET /admin/products/imports/:id, its workflow having continued as new.
 */
import { randomUUID } from 'node:crypto';
import { productImportWorkflowId } from '../../src/workflows/ids';
import { createProduct, createUser, eventually, useStack } from '../helpers/stack';

const { stack, admin } = useStack({
  env: {
    PRODUCT_IMPORT_WAIT_MAX_BYTES: '4096',
    PRODUCT_IMPORT_BATCH_SIZE: '25',
    PRODUCT_IMPORT_BATCHES_PER_RUN: '2',
  },
});

const csv = (name: string, text: string) => new File([text], name, { type: 'text/csv' });
const post = (file: File, query = '', fields: Record<string, string> = {}) =>
  stack.http.upload(`/admin/products/import${query}`, { ...fields, file }, admin.token);

test('good rows land, bad rows are named by row and column, and the same file again is the same import', async () => {
  const p = `IMP-${randomUUID().slice(0, 6)}`;
  const existing = await createProduct(stack, admin, { stock: 3 });
  const text =
    '\uFEFFsku,name,description,price,stock,category,image_url\r\n' + // row 1, after a byte-order mark
    `${p}-1,"Saree, silk","Red, with ""gold"" border",19.99,100,SAREES,https://cdn.example.test/p1.jpg\r\n` + // 2
    `${p}-2,Kurta,"Two\r\nlines",5,0,,\r\n` + // 3: one row in a spreadsheet, two lines in the file
    `${p}-3,Bad price,,19.999,5,,\r\n` + // 4
    `${p}-4,Bad stock,,1.00,-3,,\r\n` + // 5
    `,No SKU,,1.00,3,,\r\n` + // 6
    `${p}-1,Again,,2.00,1,,\r\n` + // 7: the SKU of row 2
    `${existing.sku},Exists,,2.00,1,,\r\n` + // 8: a SKU of the catalogue
    `${p}-5,Short,1.00\r\n` + // 9
    '\r\n' + // 10: blank, skipped
    `${p}-6,Bad image,,3.50,2,,ftp://old-server/p6.png\r\n` + // 11
    `${p}-7,Price with symbol,,$4.00,2,,\r\n` + // 12
    `${p}-8,Millet,,0.5,7,GRAINS,\r\n`; // 13
  const first = await post(csv('products.csv', text), '', { reason: 'spring catalogue' });
  expect(first.status).toBe(200);
  expect(first.body).toMatchObject({ imported: 3, failed: 8, dryRun: false, status: 'COMPLETED' });
  expect(first.body.importId).toMatch(/^[0-9a-f]{32}$/);
  expect(first.body.workflowId).toBe(productImportWorkflowId(first.body.importId));
  const errors = first.body.errors as { row: number; column?: string; reason: string }[];
  expect(errors.map((e) => [e.row, e.column ?? null])).toEqual([
    [4, 'price'],
    [5, 'stock'],
    [6, 'sku'],
    [7, 'sku'],
    [8, 'sku'],
    [9, null],
    [11, 'image_url'],
    [12, 'price'],
  ]);
  expect(errors.find((e) => e.row === 4)!.reason).toMatch(/more decimal places than USD has \(2\)/);
  expect(errors.find((e) => e.row === 7)!.reason).toBe(`Duplicate SKU: ${p}-1 is also in row 2`);
  expect(errors.find((e) => e.row === 8)!.reason).toBe(`Duplicate SKU: ${existing.sku} is already in the catalogue`);
  expect(errors.find((e) => e.row === 9)!.reason).toMatch(/3 values; the header has 7 columns/);

  // Landed as the catalogue shows them: price in cents, stock through the ledger.
  const silk = await stack.http.get(`/api/products?sku=${p}-1`);
  expect(silk.body.products).toEqual([
    expect.objectContaining({
      name: 'Saree, silk',
      description: 'Red, with "gold" border',
      price: 1999,
      currency: 'USD',
      availableStock: 100,
      category: 'SAREES',
      imageUrl: 'https://cdn.example.test/p1.jpg',
    }),
  ]);
  const kurta = (await stack.http.get(`/api/products?sku=${p}-2`)).body.products[0];
  expect(kurta).toMatchObject({ description: 'Two\r\nlines', price: 500, availableStock: 0 });
  expect((await stack.http.get(`/api/products?sku=${p}-8`)).body.products[0]).toMatchObject({ price: 50 });
  const ledger = await stack.prisma.inventoryLedger.findMany({
    where: { reference: `product-import:${first.body.importId}` },
  });
  expect(ledger.map((l) => [l.type, l.newStock, l.actor]).sort()).toEqual([
    ['IMPORT', 100, admin.id],
    ['IMPORT', 7, admin.id],
  ]);
  expect((await stack.http.get(`/api/products?sku=${existing.sku}`)).body.products[0].name).toBe(
    `Product ${existing.sku}`,
  );

  // The same bytes again: the same import, nothing landed twice, one audit trail.
  const again = await post(csv('renamed.csv', text));
  expect(again.status).toBe(200);
  expect(again.body).toMatchObject({ importId: first.body.importId, imported: 3, failed: 8, errors });
  expect(await stack.prisma.product.count({ where: { sku: { startsWith: `${p}-` } } })).toBe(3);
  const audit = await stack.prisma.auditLog.findMany({
    where: { targetId: first.body.importId },
    orderBy: { createdAt: 'asc' },
  });
  expect(audit.map((a) => [a.action, a.actorId, a.reason])).toEqual([
    ['PRODUCT_IMPORT_STARTED', admin.id, 'spring catalogue'],
    ['PRODUCT_IMPORT_COMPLETED', admin.id, 'spring catalogue'],
  ]);
  const status = await stack.http.get(`/admin/products/imports/${first.body.importId}`, admin.token);
  expect(status.body).toMatchObject({
    status: 'COMPLETED',
    imported: 3,
    failed: 8,
    rowsRead: 12,
    fileName: 'products.csv',
  });
});

test('prices convert by each currency’s minor units; a dry run validates and writes nothing', async () => {
  const p = `CUR-${randomUUID().slice(0, 6)}`;
  const text =
    'sku,name,price,stock,currency\n' +
    `${p}-1,Yen,1299,5,JPY\n` +
    `${p}-2,Dinar,1.250,5,KWD\n` +
    `${p}-3,Rupee,1299.5,5,\n` + // the import's currency (INR, from the query)
    `${p}-4,Nowhere,1.00,5,XYZ\n`;
  const dry = await post(csv('currencies.csv', text), '?dryRun=true&currency=inr');
  expect(dry.status).toBe(200);
  expect(dry.body).toMatchObject({ dryRun: true, valid: 3, imported: 0, failed: 1 });
  expect(dry.body.errors).toEqual([{ row: 5, column: 'currency', reason: 'XYZ is not an ISO 4217 currency code' }]);
  expect(await stack.prisma.product.count({ where: { sku: { startsWith: p } } })).toBe(0);
  expect(
    await stack.prisma.auditLog.count({
      where: { action: 'PRODUCT_CREATED', after: { path: ['sku'], string_starts_with: p } },
    }),
  ).toBe(0);

  const real = await post(csv('currencies.csv', text), '?currency=INR');
  expect(real.status).toBe(200);
  expect(real.body.importId).not.toBe(dry.body.importId); // a dry run is an import of its own
  expect(real.body).toMatchObject({ dryRun: false, imported: 3, failed: 1 });
  const prices = await stack.prisma.product.findMany({ where: { sku: { startsWith: p } }, orderBy: { sku: 'asc' } });
  expect(prices.map((x) => [x.price, x.currency])).toEqual([
    [1299, 'JPY'],
    [1250, 'KWD'],
    [129950, 'INR'],
  ]);
});

test('a file refused as a whole, and a request that is no upload, are 400s naming why', async () => {
  const missing = await post(csv('bad.csv', 'sku,title,price\nA,B,1\n'));
  expect(missing.status).toBe(400);
  expect(missing.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: { missing: ['name', 'stock'] } });
  expect(missing.body.error.message).toMatch(/lacks the columns name, stock/);
  const twice = await post(csv('bad.csv', 'sku,title,price\nA,B,1\n'));
  expect(twice.body.error).toEqual(missing.body.error);

  const json = await stack.http.post('/admin/products/import', { sku: 'A' }, admin.token);
  expect(json.status).toBe(400);
  expect(json.body.error.code).toBe('VALIDATION_ERROR');
  const noFile = await stack.http.upload('/admin/products/import', { reason: 'x' }, admin.token);
  expect(noFile.status).toBe(400);
  expect(noFile.body.error.message).toMatch(/no field `file`/);
  const badCurrency = await post(csv('a.csv', 'sku,name,price,stock\n'), '?currency=EURO');
  expect(badCurrency.status).toBe(400);
  const customer = await createUser(stack);
  const forbidden = await stack.http.upload('/admin/products/import', { file: csv('a.csv', 'x') }, customer.token);
  expect(forbidden.status).toBe(403);
  const unknown = await stack.http.get(`/admin/products/imports/${'0'.repeat(32)}`, admin.token);
  expect(unknown.status).toBe(404);
  expect(unknown.body.error.code).toBe('IMPORT_NOT_FOUND');
});

test('a large file is answered 202 and followed to its end; the workflow continued as new on the way', async () => {
  const p = `BIG-${randomUUID().slice(0, 6)}`;
  const rows = Array.from({ length: 300 }, (_, i) =>
    i === 150 ? `${p}-0,Duplicate,,1.00,1,,` : `${p}-${i},Product ${i},"Row ${i + 2}",${i}.25,${i % 20},BULK,`,
  );
  const text = `sku,name,description,price,stock,category,image_url\n${rows.join('\n')}\n`;
  const started = await post(csv('big.csv', text));
  expect(started.status).toBe(202);
  expect(started.headers.get('location')).toBe(`/admin/products/imports/${started.body.importId}`);
  const done = await eventually(
    async () => {
      const { body } = await stack.http.get(`/admin/products/imports/${started.body.importId}`, admin.token);
      return body.status === 'COMPLETED' && body;
    },
    'the large import to finish',
    90_000,
  );
  expect(done).toMatchObject({ imported: 299, failed: 1, rowsRead: 300 });
  expect(done.errors).toEqual([{ row: 152, column: 'sku', reason: `Duplicate SKU: ${p}-0 is also in row 2` }]);
  const history = await stack.temporal.workflow.getHandle(started.body.workflowId).fetchHistory();
  expect(history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId).toBeTruthy();
  expect(await stack.prisma.product.count({ where: { sku: { startsWith: `${p}-` } } })).toBe(299);
});
