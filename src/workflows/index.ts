// Entry point the worker bundles: every workflow type, and nothing that is not deterministic.
export { orderWorkflow } from './order/workflow';
export { refundWorkflow } from './refund/workflow';
export { webhookWorkflow } from './webhook/workflow';
export { keyRotationWorkflow } from './key-rotation/workflow';
export { alertEvaluationWorkflow } from './alert-evaluation/workflow';
export { adminNoticeWorkflow } from './admin-notice/workflow';
export { returnWorkflow } from './return/workflow';
export { inventoryResetWorkflow } from './inventory-reset/workflow';
export { databaseBackupWorkflow } from './database-backup/workflow';
export { disputeWorkflow } from './dispute/workflow';
export { orderEmailWorkflow } from './order-email/workflow';
export { lowStockWorkflow } from './low-stock/workflow';
export { backfillWorkflow } from './backfill/workflow';
export { productImportWorkflow } from './product-import/workflow';
export { priceScheduleWorkflow } from './price-schedule/workflow';
