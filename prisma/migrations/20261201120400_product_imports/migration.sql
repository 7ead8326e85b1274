-- CSV product imports (issue 15 point 5): the import, its file in pieces, and each row's outcome.
CREATE TABLE "product_imports" (
    "id" TEXT NOT NULL,
    "dry_run" BOOLEAN NOT NULL,
    "status" TEXT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "upload_id" UUID NOT NULL,
    "file_name" TEXT,
    "file_sha256" TEXT NOT NULL,
    "file_bytes" INTEGER NOT NULL,
    "requested_by" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "rows_read" INTEGER NOT NULL DEFAULT 0,
    "imported" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "refusal" JSONB,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMP(3),
    CONSTRAINT "product_imports_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "product_imports_created_at_idx" ON "product_imports"("created_at");

CREATE TABLE "product_import_chunks" (
    "upload_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "data" BYTEA NOT NULL,
    CONSTRAINT "product_import_chunks_pkey" PRIMARY KEY ("upload_id", "seq")
);

CREATE TABLE "product_import_rows" (
    "import_id" TEXT NOT NULL,
    "row" INTEGER NOT NULL,
    "sku" TEXT,
    "product" JSONB,
    "errors" JSONB,
    "product_id" UUID,
    CONSTRAINT "product_import_rows_pkey" PRIMARY KEY ("import_id", "row")
);
-- A SKU validates once per import: a second row with it is a duplicate, however far apart.
CREATE UNIQUE INDEX "product_import_rows_valid_sku_key" ON "product_import_rows"("import_id", "sku") WHERE "errors" IS NULL;
