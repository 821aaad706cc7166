-- AlterEnum
ALTER TYPE "ItemState" ADD VALUE 'SUPERSEDED';

-- AlterTable
ALTER TABLE "BatchItem" ADD COLUMN     "instruction" TEXT,
ADD COLUMN     "pickedAt" TIMESTAMP(3),
ADD COLUMN     "replaceFromUrl" TEXT,
ADD COLUMN     "retryOfId" TEXT;

-- CreateIndex
CREATE INDEX "BatchItem_retryOfId_idx" ON "BatchItem"("retryOfId");

