-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "CreditKind" AS ENUM ('GRANT', 'WELCOME', 'PURCHASE', 'RESERVE', 'CAPTURE', 'RELEASE', 'ADJUSTMENT');

-- CreateEnum
CREATE TYPE "ReservationState" AS ENUM ('HELD', 'CAPTURED', 'RELEASED');

-- CreateEnum
CREATE TYPE "PurchaseProvider" AS ENUM ('SHOPIFY', 'STRIPE');

-- CreateEnum
CREATE TYPE "PurchaseStatus" AS ENUM ('PENDING', 'ACTIVE', 'DECLINED', 'EXPIRED', 'FAILED');

-- CreateEnum
CREATE TYPE "BatchStatus" AS ENUM ('ACTIVE', 'DONE', 'CANCELLED');

-- CreateEnum
CREATE TYPE "ItemState" AS ENUM ('QUEUED', 'PROCESSING', 'NEEDS_REVIEW', 'PUBLISHED', 'FAILED', 'RESTORED', 'CANCELLED', 'REJECTED');

-- CreateTable
CREATE TABLE "Session" (
    "id" TEXT NOT NULL,
    "shop" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "isOnline" BOOLEAN NOT NULL DEFAULT false,
    "scope" TEXT,
    "expires" TIMESTAMP(3),
    "accessToken" TEXT NOT NULL,
    "userId" BIGINT,
    "firstName" TEXT,
    "lastName" TEXT,
    "email" TEXT,
    "accountOwner" BOOLEAN NOT NULL DEFAULT false,
    "locale" TEXT,
    "collaborator" BOOLEAN DEFAULT false,
    "emailVerified" BOOLEAN DEFAULT false,
    "refreshToken" TEXT,
    "refreshTokenExpires" TIMESTAMP(3),

    CONSTRAINT "Session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Shop" (
    "domain" TEXT NOT NULL,
    "installedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "uninstalledAt" TIMESTAMP(3),
    "scopes" TEXT,
    "defaultPipeline" TEXT NOT NULL DEFAULT 'amazon',
    "reviewBeforePublish" BOOLEAN NOT NULL DEFAULT false,
    "backgroundColor" TEXT NOT NULL DEFAULT '#FFFFFF',
    "outputSizePreset" TEXT NOT NULL DEFAULT 'standard',
    "dailySpendCap" INTEGER,
    "stripeCustomerId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Shop_pkey" PRIMARY KEY ("domain")
);

-- CreateTable
CREATE TABLE "CreditAccount" (
    "shop" TEXT NOT NULL,
    "available" INTEGER NOT NULL DEFAULT 0,
    "reserved" INTEGER NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "CreditAccount_pkey" PRIMARY KEY ("shop")
);

-- CreateTable
CREATE TABLE "CreditEntry" (
    "id" TEXT NOT NULL,
    "shop" TEXT NOT NULL,
    "kind" "CreditKind" NOT NULL,
    "availableDelta" INTEGER NOT NULL,
    "reservedDelta" INTEGER NOT NULL,
    "idempotencyKey" TEXT NOT NULL,
    "reservationId" TEXT,
    "purchaseId" TEXT,
    "note" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CreditEntry_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CreditReservation" (
    "id" TEXT NOT NULL,
    "shop" TEXT NOT NULL,
    "amount" INTEGER NOT NULL,
    "state" "ReservationState" NOT NULL DEFAULT 'HELD',
    "batchItemId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "settledAt" TIMESTAMP(3),

    CONSTRAINT "CreditReservation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Purchase" (
    "id" TEXT NOT NULL,
    "shop" TEXT NOT NULL,
    "provider" "PurchaseProvider" NOT NULL,
    "externalId" TEXT NOT NULL,
    "pack" TEXT NOT NULL,
    "credits" INTEGER NOT NULL,
    "amountCents" INTEGER NOT NULL,
    "currency" TEXT NOT NULL DEFAULT 'USD',
    "status" "PurchaseStatus" NOT NULL DEFAULT 'PENDING',
    "test" BOOLEAN NOT NULL DEFAULT false,
    "grantedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Purchase_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Batch" (
    "id" TEXT NOT NULL,
    "shop" TEXT NOT NULL,
    "pipeline" TEXT NOT NULL,
    "settings" JSONB NOT NULL,
    "status" "BatchStatus" NOT NULL DEFAULT 'ACTIVE',
    "total" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "Batch_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BatchItem" (
    "id" TEXT NOT NULL,
    "batchId" TEXT NOT NULL,
    "shop" TEXT NOT NULL,
    "productId" TEXT NOT NULL,
    "productTitle" TEXT NOT NULL,
    "mediaId" TEXT NOT NULL,
    "sourceUrl" TEXT NOT NULL,
    "sourceMimeType" TEXT,
    "position" INTEGER NOT NULL,
    "alt" TEXT,
    "state" "ItemState" NOT NULL DEFAULT 'QUEUED',
    "reason" TEXT,
    "contentHash" TEXT,
    "resultImageId" TEXT,
    "compliance" JSONB,
    "fidelity" JSONB,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "BatchItem_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "StoredImage" (
    "id" TEXT NOT NULL,
    "shop" TEXT NOT NULL,
    "cacheKey" TEXT NOT NULL,
    "mimeType" TEXT NOT NULL,
    "width" INTEGER NOT NULL,
    "height" INTEGER NOT NULL,
    "bytes" BYTEA NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "StoredImage_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ImageBackup" (
    "id" TEXT NOT NULL,
    "shop" TEXT NOT NULL,
    "mediaId" TEXT NOT NULL,
    "productId" TEXT NOT NULL,
    "originalUrl" TEXT NOT NULL,
    "fileId" TEXT,
    "fileUrl" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ImageBackup_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "WebhookEvent" (
    "id" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "shop" TEXT,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "WebhookEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ComplianceRecord" (
    "id" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "shopHash" TEXT NOT NULL,
    "handledAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ComplianceRecord_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Session_shop_idx" ON "Session"("shop");

-- CreateIndex
CREATE INDEX "CreditEntry_shop_createdAt_idx" ON "CreditEntry"("shop", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "CreditEntry_shop_idempotencyKey_key" ON "CreditEntry"("shop", "idempotencyKey");

-- CreateIndex
CREATE UNIQUE INDEX "CreditReservation_batchItemId_key" ON "CreditReservation"("batchItemId");

-- CreateIndex
CREATE INDEX "CreditReservation_shop_state_idx" ON "CreditReservation"("shop", "state");

-- CreateIndex
CREATE UNIQUE INDEX "Purchase_externalId_key" ON "Purchase"("externalId");

-- CreateIndex
CREATE INDEX "Purchase_shop_createdAt_idx" ON "Purchase"("shop", "createdAt");

-- CreateIndex
CREATE INDEX "Batch_shop_createdAt_idx" ON "Batch"("shop", "createdAt");

-- CreateIndex
CREATE INDEX "BatchItem_batchId_state_idx" ON "BatchItem"("batchId", "state");

-- CreateIndex
CREATE INDEX "BatchItem_shop_mediaId_idx" ON "BatchItem"("shop", "mediaId");

-- CreateIndex
CREATE UNIQUE INDEX "StoredImage_shop_cacheKey_key" ON "StoredImage"("shop", "cacheKey");

-- CreateIndex
CREATE UNIQUE INDEX "ImageBackup_shop_mediaId_key" ON "ImageBackup"("shop", "mediaId");

-- AddForeignKey
ALTER TABLE "BatchItem" ADD CONSTRAINT "BatchItem_batchId_fkey" FOREIGN KEY ("batchId") REFERENCES "Batch"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Hand-written: what the Prisma schema cannot express.
-- The cached balance can never go negative, whatever the concurrency.
ALTER TABLE "CreditAccount" ADD CONSTRAINT "CreditAccount_available_nonnegative" CHECK ("available" >= 0);
ALTER TABLE "CreditAccount" ADD CONSTRAINT "CreditAccount_reserved_nonnegative" CHECK ("reserved" >= 0);
ALTER TABLE "CreditReservation" ADD CONSTRAINT "CreditReservation_amount_positive" CHECK ("amount" > 0);
-- One active batch per image: an image already queued, processing or in review cannot be queued again.
CREATE UNIQUE INDEX "BatchItem_active_media_key" ON "BatchItem" ("shop", "mediaId")
  WHERE "state" IN ('QUEUED', 'PROCESSING', 'NEEDS_REVIEW');
