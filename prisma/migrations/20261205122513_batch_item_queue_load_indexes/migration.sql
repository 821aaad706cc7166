-- CreateIndex
CREATE INDEX "BatchItem_state_shop_idx" ON "BatchItem"("state", "shop");

-- CreateIndex
CREATE INDEX "BatchItem_finishedAt_idx" ON "BatchItem"("finishedAt");

