-- AlterTable
ALTER TABLE "email_messages" ADD COLUMN     "claimed_by" TEXT;
