/**
 * Issue 13 point 5, the codec part: someone who reaches the Temporal frontend directly (the CLI,
 * a Web UI without our codec) sends payloads in clear. The worker refuses them: the workflow
 * task fails with a clear message and the signal never reaches workflow code, so an approval
 * typed straight into Temporal moves no money.
 */
import { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { EncryptionCodec, UnencryptedPayloadError } from '../../src/platform/codec';
import { createProduct, createUser, eventually, useStack } from '../helpers/stack';

const { stack, admin } = useStack();

const plain = { metadata: { encoding: new TextEncoder().encode('json/plain') }, data: new TextEncoder().encode('{}') };

test('the codec refuses a plaintext payload, unless told to read old histories', async () => {
  const strict = EncryptionCodec.fromConfig(stack.config);
  await expect(strict.decode([plain])).rejects.toThrow(UnencryptedPayloadError);
  await expect(strict.decode([plain])).rejects.toThrow(/refusing an unencrypted payload \(encoding json\/plain\)/);
  expect(await EncryptionCodec.fromConfig(stack.config, 'accept').decode([plain])).toEqual([plain]);
  const sealed = await strict.encode([plain]);
  expect(await strict.decode(sealed)).toEqual([expect.objectContaining({ data: plain.data })]);
});

test('an approval signalled in clear straight to Temporal fails its workflow task and moves no money', async () => {
  const customer = await createUser(stack);
  const product = await createProduct(stack, admin, { stock: 2, price: 1500 });
  await stack.http.post(`/admin/wallets/${customer.id}/credit`, { amount: 1500, reason: 'test' }, admin.token);
  const checkout = await stack.http.post(
    '/api/checkout',
    { items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'wallet' },
    customer.token,
  );
  const ask = () =>
    stack.http.request('POST', `/api/orders/${checkout.body.orderId}/refunds`, {
      body: { reason: 'changed my mind' },
      token: customer.token,
      headers: { 'idempotency-key': 'side-door-1' },
    });
  const requested = await ask();
  expect(requested.status).toBe(202);
  const workflowId = `refund-${requested.body.refundId}`;

  // A client with Temporal's default converter: what `temporal workflow signal` sends.
  const outsider = new Client({ connection: stack.temporal.connection, namespace: stack.config.TEMPORAL_NAMESPACE });
  await outsider.workflow.getHandle(workflowId).signal('approveRefund', { adminId: admin.id, reason: 'in clear' });

  const failed = await eventually(async () => {
    const { history } = await stack.temporal.workflowService.getWorkflowExecutionHistory({
      namespace: stack.config.TEMPORAL_NAMESPACE,
      execution: { workflowId },
    });
    return history?.events?.find(
      (e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    );
  }, 'a failed workflow task');
  // The failure's message is sealed too (encoded attributes): open it as an admin would.
  const [attributes] = await EncryptionCodec.fromConfig(stack.config).decode([
    failed.workflowTaskFailedEventAttributes!.failure!.encodedAttributes! as Payload,
  ]);
  expect(JSON.parse(new TextDecoder().decode(attributes.data!)).message).toMatch(/refusing an unencrypted payload/);
  // While its task is failed the workflow takes nothing: the API says so, as a retryable 503.
  const approved = await stack.http.post(
    `/admin/refunds/${requested.body.refundId}/approve`,
    { reason: 'through the API' },
    admin.token,
  );
  const retried = await ask();
  for (const answer of [approved, retried]) {
    expect({
      status: answer.status,
      code: answer.body.error?.code,
      retryAfter: answer.headers.get('retry-after'),
    }).toEqual({ status: 503, code: 'WORKFLOW_TASK_FAILED', retryAfter: '2' });
  }
  const refund = await stack.prisma.refund.findUniqueOrThrow({ where: { id: requested.body.refundId } });
  expect(refund.status).toBe('PENDING_APPROVAL');
  expect(await stack.prisma.walletEntry.count({ where: { reference: requested.body.refundId } })).toBe(0);
  await stack.temporal.workflow.getHandle(workflowId).terminate('test over');
});
