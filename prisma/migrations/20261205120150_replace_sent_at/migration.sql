-- AlterTable
ALTER TABLE "BatchItem" ADD COLUMN     "replaceSentAt" TIMESTAMP(3);

