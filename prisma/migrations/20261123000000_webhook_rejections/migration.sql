-- CreateTable
CREATE TABLE "webhook_rejections" (
    "provider" "WebhookProvider" NOT NULL,
    "hour" TIMESTAMP(3) NOT NULL,
    "reason" TEXT NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 0,
    "last_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "webhook_rejections_pkey" PRIMARY KEY ("provider","hour","reason")
);
