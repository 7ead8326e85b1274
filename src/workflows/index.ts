// Entry point the worker bundles: every workflow type, and nothing that is not deterministic.
export { orderWorkflow } from './order';
export { refundWorkflow } from './refund';
export { webhookWorkflow } from './webhook';
export { keyRotationWorkflow } from './key-rotation';
