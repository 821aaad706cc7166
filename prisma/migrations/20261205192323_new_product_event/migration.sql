-- CreateTable
CREATE TABLE "NewProductEvent" (
    "id" TEXT NOT NULL,
    "shop" TEXT NOT NULL,
    "queue" TEXT NOT NULL,
    "productId" TEXT NOT NULL,
    "mediaIds" TEXT[],
    "doneAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "NewProductEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "NewProductEvent_queue_doneAt_idx" ON "NewProductEvent"("queue", "doneAt");

