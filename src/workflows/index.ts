// Entry point the worker bundles: every workflow type, and nothing that is not deterministic.
export { orderWorkflow } from './order';
export { webhookWorkflow } from './webhook';
