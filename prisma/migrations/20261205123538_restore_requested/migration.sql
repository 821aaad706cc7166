-- AlterTable
ALTER TABLE "BatchItem" ADD COLUMN     "restoreRequestedAt" TIMESTAMP(3);

