-- One inventory ledger for every stock movement, and product variants with stock of their own.
ALTER TYPE "InventoryLedgerType" ADD VALUE 'RESET';
ALTER TYPE "InventoryLedgerType" ADD VALUE 'IMPORT';
ALTER TYPE "InventoryLedgerType" ADD VALUE IF NOT EXISTS 'RETURN';
ALTER TYPE "InventoryLedgerType" ADD VALUE 'ROLLBACK';

ALTER TABLE "products" ALTER COLUMN "low_stock_threshold" SET DEFAULT 10;
ALTER TABLE "products" ADD COLUMN "vendor_email" TEXT;
ALTER TABLE "products" ADD COLUMN "low_stock_alerted_at" TIMESTAMP(3);
ALTER TABLE "products" ADD COLUMN "description" TEXT;
ALTER TABLE "products" ADD COLUMN "category" TEXT;
ALTER TABLE "products" ADD COLUMN "image_url" TEXT;

CREATE TABLE "product_variants" (
    "id" UUID NOT NULL,
    "product_id" UUID NOT NULL,
    "sku" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "price" INTEGER,
    "stock" INTEGER NOT NULL,
    "reserved_stock" INTEGER NOT NULL DEFAULT 0,
    "low_stock_alerted_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "product_variants_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "product_variants_sku_key" ON "product_variants"("sku");
CREATE INDEX "product_variants_product_id_idx" ON "product_variants"("product_id");
ALTER TABLE "product_variants" ADD CONSTRAINT "product_variants_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "products"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

ALTER TABLE "order_items" ADD COLUMN "variant_id" UUID;
DROP INDEX "order_items_order_id_product_id_key";
CREATE UNIQUE INDEX "order_items_order_id_product_id_variant_id_key" ON "order_items"("order_id", "product_id", "variant_id") NULLS NOT DISTINCT;
ALTER TABLE "order_items" ADD CONSTRAINT "order_items_variant_id_fkey" FOREIGN KEY ("variant_id") REFERENCES "product_variants"("id") ON DELETE SET NULL ON UPDATE CASCADE;

ALTER TABLE "inventory_ledger" ADD COLUMN "variant_id" UUID;
ALTER TABLE "inventory_ledger" ADD CONSTRAINT "inventory_ledger_variant_id_fkey" FOREIGN KEY ("variant_id") REFERENCES "product_variants"("id") ON DELETE SET NULL ON UPDATE CASCADE;
CREATE INDEX "inventory_ledger_type_created_at_idx" ON "inventory_ledger"("type", "created_at");

CREATE TABLE "low_stock_alerts" (
    "id" UUID NOT NULL,
    "product_id" UUID NOT NULL,
    "variant_id" UUID,
    "sku" TEXT NOT NULL,
    "available" INTEGER NOT NULL,
    "threshold" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "notified_at" TIMESTAMP(3),
    CONSTRAINT "low_stock_alerts_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "low_stock_alerts_notified_at_idx" ON "low_stock_alerts"("notified_at");
