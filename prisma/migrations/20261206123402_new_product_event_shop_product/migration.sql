-- CreateIndex
CREATE INDEX "NewProductEvent_shop_productId_idx" ON "NewProductEvent"("shop", "productId");

