import type { CreditKind, PrismaClient } from "@prisma/client";
import { storedMessage, type MerchantMessage } from "~/lib/merchant-message";

/**
 * The Credits page's history: one line per batch (every image's hold, charge and return summed) and one per other
 * ledger entry (a pack bought, welcome credits, an adjustment), newest first; a batch line opens to its images. A
 * 500-image batch is one line instead of a thousand.
 */

export interface ActivityLine {
  /** "batch:<id>" or "entry:<id>": stable, and the page cursor's tie-breaker. */
  key: string;
  at: string;
  /** Change of the available balance, and of the credits held for images still being worked on. */
  available: number;
  held: number;
  /** For a ledger entry: its kind and note. */
  kind: CreditKind | null;
  note: string | null;
  /** The note as a merchant message, for the viewer's language (null on entries from before codes). */
  noteMessage: MerchantMessage | null;
  batch: { id: string; pipeline: string; images: number; charged: number; returned: number; held: number } | null;
}

export interface ActivityPage {
  lines: ActivityLine[];
  nextCursor: string | null;
}

const CURSOR = /^(\d{4}-\d{2}-\d{2}T[\d:.]+Z)\|((?:batch|entry):[\w-]{1,80})$/;

export async function creditActivity(db: PrismaClient, shop: string, page: { cursor?: string; take?: number } = {}): Promise<ActivityPage> {
  const take = Math.min(Math.max(Math.trunc(page.take ?? 20), 1), 100);
  const cursor = page.cursor ? CURSOR.exec(page.cursor) : null;
  const rows = await db.$queryRaw<
    Array<{
      key: string;
      at: Date;
      /** Microseconds, for the cursor (a Date keeps only milliseconds). */
      atExact: string;
      available: number;
      held: number;
      kind: CreditKind | null;
      note: string | null;
      noteMessage: unknown;
      batchId: string | null;
      pipeline: string | null;
      images: number;
      charged: number;
      returned: number;
    }>
  >`
    WITH entries AS (
      SELECT e.*, i."batchId" AS "batchId"
      FROM "CreditEntry" e
      LEFT JOIN "CreditReservation" r ON r."id" = e."reservationId"
      LEFT JOIN "BatchItem" i ON i."id" = r."batchItemId" AND i."shop" = e."shop"
      WHERE e."shop" = ${shop}
    ), lines AS (
      SELECT
        CASE WHEN "batchId" IS NOT NULL THEN 'batch:' || "batchId" ELSE 'entry:' || "id" END AS key,
        max("createdAt") AS at,
        sum("availableDelta")::int AS available,
        sum("reservedDelta")::int AS held,
        CASE WHEN "batchId" IS NULL THEN min("kind"::text) END AS kind,
        CASE WHEN "batchId" IS NULL THEN min("note") END AS note,
        -- An entry's line is that one entry.
        CASE WHEN "batchId" IS NULL THEN (array_agg("noteMessage"))[1] END AS "noteMessage",
        "batchId",
        count(DISTINCT "reservationId")::int AS images,
        COALESCE(-sum("reservedDelta") FILTER (WHERE "kind" = 'CAPTURE'), 0)::int AS charged,
        COALESCE(sum("availableDelta") FILTER (WHERE "kind" = 'RELEASE'), 0)::int AS returned
      FROM entries
      GROUP BY 1, "batchId"
    )
    SELECT l.*, to_char(l.at, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "atExact", b."pipeline"
    FROM lines l LEFT JOIN "Batch" b ON b."id" = l."batchId" AND b."shop" = ${shop}
    WHERE ${cursor === null} OR (l.at, l.key) < (${cursor?.[1] ?? "1970-01-01T00:00:00Z"}::timestamp, ${cursor?.[2] ?? ""})
    ORDER BY l.at DESC, l.key DESC
    LIMIT ${take + 1}`;
  const shown = rows.slice(0, take);
  const lines = shown.map((row): ActivityLine => ({
    key: row.key,
    at: row.at.toISOString(),
    available: row.available,
    held: row.held,
    kind: row.batchId ? null : row.kind,
    note: row.batchId ? null : row.note,
    noteMessage: row.batchId ? null : storedMessage(row.noteMessage),
    batch: row.batchId
      ? { id: row.batchId, pipeline: row.pipeline ?? "", images: row.images, charged: row.charged, returned: row.returned, held: row.held }
      : null,
  }));
  const last = shown.at(-1);
  return { lines, nextCursor: rows.length > take && last ? `${last.atExact}|${last.key}` : null };
}

export interface BatchCreditLine {
  itemId: string;
  productTitle: string;
  position: number;
  state: string;
  charged: number;
  returned: number;
  held: number;
}

/** A batch line opened: what each of its images cost, was given back, or still holds. */
export async function batchCreditLines(db: PrismaClient, shop: string, batchId: string): Promise<BatchCreditLine[]> {
  return db.$queryRaw<BatchCreditLine[]>`
    SELECT i."id" AS "itemId", i."productTitle", i."position", i."state"::text AS state,
      COALESCE(-sum(e."reservedDelta") FILTER (WHERE e."kind" = 'CAPTURE'), 0)::int AS charged,
      COALESCE(sum(e."availableDelta") FILTER (WHERE e."kind" = 'RELEASE'), 0)::int AS returned,
      COALESCE(sum(e."reservedDelta"), 0)::int AS held
    FROM "BatchItem" i
    LEFT JOIN "CreditReservation" r ON r."batchItemId" = i."id" AND r."shop" = ${shop}
    LEFT JOIN "CreditEntry" e ON e."reservationId" = r."id" AND e."shop" = ${shop}
    WHERE i."shop" = ${shop} AND i."batchId" = ${batchId}
    GROUP BY i."id"
    ORDER BY i."position", i."id"`;
}
