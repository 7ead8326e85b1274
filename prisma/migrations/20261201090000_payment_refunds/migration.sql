-- A payment refunded in full because the order could not keep it (late, duplicate, wrong amount)
-- records the provider's refund, so the order's view shows the money that came and went.
ALTER TABLE "payments" ADD COLUMN "refund_id" TEXT;
ALTER TABLE "payments" ADD COLUMN "refunded_amount" INTEGER;
ALTER TABLE "payments" ADD COLUMN "refunded_at" TIMESTAMP(3);
