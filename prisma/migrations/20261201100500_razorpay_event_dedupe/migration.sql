-- Razorpay events are deduplicated on what their signature covers (event, entity id, created_at),
-- not on the X-Razorpay-Event-Id header, which anyone replaying a signed body may change.
ALTER TABLE "webhook_events" ADD COLUMN "dedupe_key" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "webhook_events_provider_dedupe_key_key" ON "webhook_events"("provider", "dedupe_key");
