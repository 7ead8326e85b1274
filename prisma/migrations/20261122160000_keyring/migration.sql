-- CreateEnum
CREATE TYPE "SecretStatus" AS ENUM ('STAGED', 'ACTIVE', 'RETIRING', 'RETIRED');

-- CreateTable
CREATE TABLE "secret_versions" (
    "id" UUID NOT NULL,
    "purpose" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "kid" TEXT NOT NULL,
    "status" "SecretStatus" NOT NULL,
    "ciphertext" TEXT NOT NULL,
    "iv" TEXT NOT NULL,
    "auth_tag" TEXT NOT NULL,
    "master_key_id" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "activated_at" TIMESTAMP(3),
    "retiring_until" TIMESTAMP(3),
    "retired_at" TIMESTAMP(3),

    CONSTRAINT "secret_versions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "secret_versions_kid_key" ON "secret_versions"("kid");

-- CreateIndex
CREATE UNIQUE INDEX "secret_versions_purpose_version_key" ON "secret_versions"("purpose", "version");

-- Hand-written: one ACTIVE version per purpose at any time.
CREATE UNIQUE INDEX "secret_versions_one_active" ON "secret_versions"("purpose") WHERE "status" = 'ACTIVE';
