-- One provider payment (a PaymentIntent, a Razorpay order, a wallet entry) belongs to one order's
-- payment attempt: events are routed by it, so two rows naming it would let one payment pay two
-- orders. Rows that already share one (stripe-mock's fixture id in development databases, or an
-- attempt overwritten by another order's Razorpay payment before routing ignored payment notes)
-- keep it on the earliest row; the later ones get '<id>~duplicate-<row id>', so nothing is lost
-- and `WHERE provider_payment_id LIKE '%~duplicate-%'` finds them for a person to look at.
UPDATE "payments" AS p
SET "provider_payment_id" = p."provider_payment_id" || '~duplicate-' || p."id"
FROM (
  SELECT "id", ROW_NUMBER() OVER (PARTITION BY "provider_payment_id" ORDER BY "created_at", "id") AS n
  FROM "payments"
  WHERE "provider_payment_id" IS NOT NULL
) AS ranked
WHERE p."id" = ranked."id" AND ranked.n > 1;

CREATE UNIQUE INDEX "payments_provider_payment_id_key" ON "payments"("provider_payment_id");
