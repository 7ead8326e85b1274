/**
 * The inventory reset workflow's contract (`inventory-reset-<resetId>`): its input, the view it
 * answers, and the rollback update. The API, the CLI and the workflow import this file.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Actor } from '../vocabulary';

export type ResetStatus =
  | 'PENDING'
  | 'SNAPSHOTTED'
  | 'APPLIED'
  | 'REFUSED'
  | 'VERIFIED'
  | 'VERIFY_FAILED'
  | 'ROLLED_BACK'
  | 'PARTIALLY_ROLLED_BACK';

export interface InventoryResetInput {
  resetId: string;
  actor: Actor;
  /** How long after verification the reset may still be rolled back (INVENTORY_RESET_ROLLBACK_WINDOW). */
  rollbackWindowMs: number;
}

export interface ResetLineResult {
  productId: string;
  variantId?: string;
  newQuantity: number;
  reason: string;
  previousStock: number;
  newStock: number;
}

export interface ResetRollbackLine {
  productId: string;
  variantId?: string;
  delta: number;
  status: 'REVERSED' | 'REFUSED';
  previousStock?: number;
  newStock?: number;
  message?: string;
}

export interface ResetView {
  resetId: string;
  workflowId: string;
  status: ResetStatus;
  reason: string;
  reference: string | null;
  requestedBy: string;
  lines: (Omit<ResetLineResult, 'previousStock' | 'newStock'> & {
    previousStock: number | null;
    newStock: number | null;
  })[];
  errors: { line?: number; productId?: string; variantId?: string; code?: string; message: string }[];
  rollback: ResetRollbackLine[] | null;
  createdAt: string;
}

export interface RollbackResetRequest {
  actor: Actor;
  reason: string;
}

/** The workflow's own state: where it stands (the database row has the details). */
export interface ResetProgress {
  status: ResetStatus;
  rollbackOpen: boolean;
}

export const getResetProgressQuery = defineQuery<ResetProgress>('getResetProgress');
export const rollbackResetUpdate = defineUpdate<ResetRollbackLine[], [RollbackResetRequest]>('rollbackReset');
