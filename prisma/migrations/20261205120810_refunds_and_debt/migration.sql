-- AlterTable
ALTER TABLE "CreditAccount" ADD COLUMN     "debt" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "CreditEntry" ADD COLUMN     "debtDelta" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "Purchase" ADD COLUMN     "paymentIntentId" TEXT,
ADD COLUMN     "reversedCredits" INTEGER NOT NULL DEFAULT 0;

-- CreateIndex
CREATE UNIQUE INDEX "Purchase_paymentIntentId_key" ON "Purchase"("paymentIntentId");


-- Hand-written: what Prisma's schema cannot say.
ALTER TABLE "CreditAccount" ADD CONSTRAINT "CreditAccount_debt_nonnegative" CHECK ("debt" >= 0);
ALTER TABLE "Purchase" ADD CONSTRAINT "Purchase_reversedCredits_range" CHECK ("reversedCredits" >= 0 AND "reversedCredits" <= "credits");
