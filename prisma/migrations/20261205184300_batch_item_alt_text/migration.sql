-- AlterTable
ALTER TABLE "BatchItem" ADD COLUMN     "suggestedAlt" TEXT,
ADD COLUMN     "writtenAlt" TEXT;

