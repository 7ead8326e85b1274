-- Inventory resets (the runbook's physical-count reconciliation), run by inventory-reset-<id>.
CREATE TABLE "inventory_resets" (
    "id" UUID NOT NULL,
    "status" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "reference" TEXT,
    "requested_by" TEXT NOT NULL,
    "lines" JSONB NOT NULL,
    "snapshot" JSONB,
    "errors" JSONB,
    "rollback" JSONB,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "inventory_resets_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "inventory_resets_created_at_idx" ON "inventory_resets"("created_at");
