-- AlterTable
ALTER TABLE "Shop" ADD COLUMN     "autoCleanPauseMessage" JSONB;

-- AlterTable
ALTER TABLE "Batch" ADD COLUMN     "noteMessage" JSONB;

-- AlterTable
ALTER TABLE "CatalogRun" ADD COLUMN     "reasonMessage" JSONB;

