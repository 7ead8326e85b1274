-- The provider's own id of the payment that paid an attempt: Razorpay's pay_... (one Razorpay order
-- can be paid twice, by two payments that share its order_... id), Stripe's charge. Recorded with
-- the attempt's success, so a second payment of the same Razorpay order is told from the one that
-- paid it and refunded, and the paying row is never marked refunded by it.
ALTER TABLE "payments" ADD COLUMN "charge_id" TEXT;
