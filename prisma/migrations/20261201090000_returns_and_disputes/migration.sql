-- Returns after delivery and provider disputes (issue 19): a return's lines go back to stock as RETURN.
ALTER TYPE "InventoryLedgerType" ADD VALUE IF NOT EXISTS 'RETURN';

-- CreateEnum
CREATE TYPE "ReturnStatus" AS ENUM ('REQUESTED', 'RECEIVED', 'REFUNDED', 'REFUND_FAILED', 'REJECTED', 'EXPIRED');

-- CreateEnum
CREATE TYPE "DisputeState" AS ENUM ('OPEN', 'WON', 'LOST');

-- AlterTable
ALTER TABLE "orders" ADD COLUMN "dispute_status" "DisputeState";

-- AlterTable
ALTER TABLE "payments" ADD COLUMN "dispute_status" "DisputeState";

-- CreateTable
CREATE TABLE "returns" (
    "id" UUID NOT NULL,
    "order_id" UUID NOT NULL,
    "customer_id" UUID NOT NULL,
    "status" "ReturnStatus" NOT NULL DEFAULT 'REQUESTED',
    "reason" TEXT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "expires_at" TIMESTAMP(3) NOT NULL,
    "received_by" TEXT,
    "received_at" TIMESTAMP(3),
    "refund_shipping" BOOLEAN NOT NULL DEFAULT false,
    "refund_id" UUID,
    "refund_amount" INTEGER,
    "decided_by" TEXT,
    "decision_reason" TEXT,
    "closed_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "returns_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "return_lines" (
    "id" UUID NOT NULL,
    "return_id" UUID NOT NULL,
    "product_id" UUID NOT NULL,
    "quantity" INTEGER NOT NULL,
    "unit_price" INTEGER NOT NULL,
    "restocked" INTEGER NOT NULL DEFAULT 0,
    "damaged" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "return_lines_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "disputes" (
    "id" UUID NOT NULL,
    "provider" "WebhookProvider" NOT NULL,
    "provider_dispute_id" TEXT NOT NULL,
    "order_id" UUID NOT NULL,
    "payment_id" UUID NOT NULL,
    "status" "DisputeState" NOT NULL DEFAULT 'OPEN',
    "provider_status" TEXT NOT NULL,
    "amount" INTEGER NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "reason" TEXT NOT NULL,
    "evidence_due_by" TIMESTAMP(3),
    "evidence_submitted_at" TIMESTAMP(3),
    "evidence_submitted_by" TEXT,
    "evidence_note" TEXT,
    "funds_withdrawn" BOOLEAN NOT NULL DEFAULT false,
    "funds_reinstated" BOOLEAN NOT NULL DEFAULT false,
    "last_event_at" TIMESTAMP(3) NOT NULL,
    "closed_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "disputes_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "returns_order_id_idx" ON "returns"("order_id");

-- CreateIndex
CREATE INDEX "returns_status_created_at_idx" ON "returns"("status", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "return_lines_return_id_product_id_key" ON "return_lines"("return_id", "product_id");

-- CreateIndex
CREATE UNIQUE INDEX "disputes_provider_provider_dispute_id_key" ON "disputes"("provider", "provider_dispute_id");

-- CreateIndex
CREATE INDEX "disputes_order_id_idx" ON "disputes"("order_id");

-- CreateIndex
CREATE INDEX "disputes_status_evidence_due_by_idx" ON "disputes"("status", "evidence_due_by");

-- AddForeignKey
ALTER TABLE "return_lines" ADD CONSTRAINT "return_lines_return_id_fkey" FOREIGN KEY ("return_id") REFERENCES "returns"("id") ON DELETE CASCADE ON UPDATE CASCADE;
