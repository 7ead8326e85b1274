-- Business alerts opened and resolved by the alert-evaluation schedule (issue 16).
CREATE TYPE "AlertStatus" AS ENUM ('OPEN', 'RESOLVED');

CREATE TABLE "alerts" (
    "id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "opening" INTEGER NOT NULL,
    "status" "AlertStatus" NOT NULL DEFAULT 'OPEN',
    "severity" TEXT NOT NULL,
    "summary" TEXT NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "threshold" DOUBLE PRECISION NOT NULL,
    "opened_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolved_at" TIMESTAMP(3),
    "opened_notified_at" TIMESTAMP(3),
    "resolved_notified_at" TIMESTAMP(3),

    CONSTRAINT "alerts_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "alerts_key_opening_key" ON "alerts"("key", "opening");
CREATE INDEX "alerts_status_opened_at_idx" ON "alerts"("status", "opened_at");
