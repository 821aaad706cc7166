-- AlterTable
ALTER TABLE "CreditEntry" ADD COLUMN     "noteMessage" JSONB;

-- AlterTable
ALTER TABLE "Purchase" ADD COLUMN     "noteMessage" JSONB;

-- AlterTable
ALTER TABLE "BatchItem" ADD COLUMN     "reasonMessage" JSONB;

