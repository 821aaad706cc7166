-- CreateEnum
CREATE TYPE "BatchOrigin" AS ENUM ('MANUAL', 'NEW_PRODUCTS', 'CATALOG');

-- CreateEnum
CREATE TYPE "CatalogRunStatus" AS ENUM ('COUNTING', 'READY', 'RUNNING', 'PAUSED', 'DONE', 'CANCELLED', 'FAILED');

-- AlterTable
ALTER TABLE "Shop" ADD COLUMN     "autoCleanEnabled" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "autoCleanEnabledAt" TIMESTAMP(3),
ADD COLUMN     "autoCleanImages" TEXT NOT NULL DEFAULT 'all',
ADD COLUMN     "autoCleanMonthlyBudget" INTEGER,
ADD COLUMN     "autoCleanPauseReason" TEXT,
ADD COLUMN     "autoCleanPausedAt" TIMESTAMP(3),
ADD COLUMN     "autoCleanPausedFor" TEXT,
ADD COLUMN     "autoCleanPipeline" TEXT NOT NULL DEFAULT 'amazon',
ADD COLUMN     "autoCleanReview" BOOLEAN NOT NULL DEFAULT true;

-- AlterTable
ALTER TABLE "Batch" ADD COLUMN     "note" TEXT,
ADD COLUMN     "origin" "BatchOrigin" NOT NULL DEFAULT 'MANUAL';

-- CreateTable
CREATE TABLE "CatalogRun" (
    "id" TEXT NOT NULL,
    "shop" TEXT NOT NULL,
    "filter" JSONB NOT NULL,
    "pipeline" TEXT NOT NULL,
    "status" "CatalogRunStatus" NOT NULL DEFAULT 'COUNTING',
    "bulkOperationId" TEXT,
    "total" INTEGER NOT NULL DEFAULT 0,
    "budget" INTEGER,
    "reason" TEXT,
    "batchId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "CatalogRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CatalogRunImage" (
    "runId" TEXT NOT NULL,
    "mediaId" TEXT NOT NULL,
    "productId" TEXT NOT NULL,
    "productTitle" TEXT NOT NULL,
    "sourceUrl" TEXT NOT NULL,
    "sourceMimeType" TEXT,
    "position" INTEGER NOT NULL,
    "alt" TEXT,
    "seq" INTEGER NOT NULL,
    "itemId" TEXT,
    "skipped" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "CatalogRunImage_pkey" PRIMARY KEY ("runId","mediaId")
);

-- CreateIndex
CREATE UNIQUE INDEX "CatalogRun_batchId_key" ON "CatalogRun"("batchId");

-- CreateIndex
CREATE INDEX "CatalogRun_shop_createdAt_idx" ON "CatalogRun"("shop", "createdAt");

-- CreateIndex
CREATE INDEX "CatalogRun_status_idx" ON "CatalogRun"("status");

-- CreateIndex
CREATE INDEX "CatalogRunImage_runId_seq_idx" ON "CatalogRunImage"("runId", "seq");

-- AddForeignKey
ALTER TABLE "CatalogRunImage" ADD CONSTRAINT "CatalogRunImage_runId_fkey" FOREIGN KEY ("runId") REFERENCES "CatalogRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;

