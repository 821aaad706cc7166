-- AlterTable
ALTER TABLE "Purchase" ADD COLUMN     "disputedCredits" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "refundedCredits" INTEGER NOT NULL DEFAULT 0;


-- What was taken back before the two shares were kept apart counts as refunded: a dispute won later then gives back
-- nothing it cannot prove it took.
UPDATE "Purchase" SET "refundedCredits" = "reversedCredits" WHERE "reversedCredits" > 0;
