-- AlterTable
ALTER TABLE "StoredImage" ADD COLUMN     "expiredAt" TIMESTAMP(3),
ADD COLUMN     "objectKey" TEXT,
ALTER COLUMN "bytes" DROP NOT NULL;

-- CreateIndex
CREATE INDEX "StoredImage_createdAt_idx" ON "StoredImage"("createdAt");

