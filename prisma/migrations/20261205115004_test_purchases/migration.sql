-- AlterTable
ALTER TABLE "Shop" ADD COLUMN     "partnerDevelopment" BOOLEAN,
ADD COLUMN     "planCheckedAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "Purchase" ADD COLUMN     "note" TEXT;

