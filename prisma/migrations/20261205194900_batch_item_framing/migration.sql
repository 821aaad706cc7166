-- AlterTable
ALTER TABLE "BatchItem" ADD COLUMN     "framing" JSONB;

