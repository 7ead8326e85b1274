-- Scheduled price changes (sales that revert at their end, or changes for good), run by the
-- workflow price-schedule-<id>; each line keeps the price it replaced and how it was settled.
CREATE TABLE "price_schedules" (
    "id" UUID NOT NULL,
    "status" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "reference" TEXT,
    "starts_at" TIMESTAMP(3) NOT NULL,
    "ends_at" TIMESTAMP(3),
    "requested_by" TEXT NOT NULL,
    "cancelled_by" TEXT,
    "cancel_reason" TEXT,
    "applied_at" TIMESTAMP(3),
    "ended_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "price_schedules_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "price_schedules_status_idx" ON "price_schedules"("status");
CREATE INDEX "price_schedules_created_at_idx" ON "price_schedules"("created_at");

CREATE TABLE "price_schedule_lines" (
    "schedule_id" UUID NOT NULL,
    "line" INTEGER NOT NULL,
    "product_id" UUID NOT NULL,
    "variant_id" UUID,
    "price" INTEGER NOT NULL,
    "previous_price" INTEGER,
    "applied_at" TIMESTAMP(3),
    "settled_at" TIMESTAMP(3),
    "outcome" TEXT,
    "restored_price" INTEGER,
    CONSTRAINT "price_schedule_lines_pkey" PRIMARY KEY ("schedule_id", "line"),
    CONSTRAINT "price_schedule_lines_schedule_id_fkey" FOREIGN KEY ("schedule_id") REFERENCES "price_schedules"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "price_schedule_lines_product_id_variant_id_idx" ON "price_schedule_lines"("product_id", "variant_id");
