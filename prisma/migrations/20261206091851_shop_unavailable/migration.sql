-- AlterTable
ALTER TABLE "Shop" ADD COLUMN     "unavailableAt" TIMESTAMP(3),
ADD COLUMN     "unavailableStatus" INTEGER;

