-- Product images as the runbook's migrateProductImages wants them: [{url, alt, order}]; NULL
-- until the product-images backfill (or a write of the new shape) fills it in.
ALTER TABLE "products" ADD COLUMN "images" JSONB;

-- What each backfill did to each row: once per (backfill, row), so a batch retried after a
-- crash skips the rows it already did, and every failure is kept with its reason.
CREATE TABLE "backfill_rows" (
    "backfill_id" TEXT NOT NULL,
    "row_key" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "error" TEXT,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "backfill_rows_pkey" PRIMARY KEY ("backfill_id", "row_key")
);
CREATE INDEX "backfill_rows_backfill_id_outcome_idx" ON "backfill_rows"("backfill_id", "outcome");
