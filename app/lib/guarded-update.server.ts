import { Prisma } from "@prisma/client";

/**
 * Runs a Prisma `update` of one row by its unique key plus further conditions (the row is still in a state it may
 * leave, a field is still empty) and says whether a row matched: Prisma answers "no row" with P2025, read as false.
 * One UPDATE statement, where `updateMany` wraps its UPDATE in a transaction of its own (three statements): the
 * worker's per-image writes go through here.
 */
export async function updatedIfMatched(update: Promise<unknown>): Promise<boolean> {
  try {
    await update;
    return true;
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2025") return false;
    throw error;
  }
}
