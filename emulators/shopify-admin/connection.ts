import { GraphQLError } from "graphql";

export const MAX_PAGE_SIZE = 250;

export interface ConnectionArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
  reverse?: boolean | null;
}

type SortValue = string | number;

export interface Connection<N> {
  edges: Array<{ cursor: string; node: N }>;
  nodes: N[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

/**
 * Relay pagination over an in-memory list, sorted by (sortValue, id). Cursors carry the last item's
 * id and sort value the way Shopify's do, so they stay valid when items are added or removed.
 */
export function paginate<T, N>(
  items: readonly T[],
  args: ConnectionArgs,
  keyOf: (item: T) => { id: number; value: SortValue },
  toNode: (item: T) => N,
  /** A bulk operation's query reads whole connections: no first/last needed, no page size limit. */
  opts: { unbounded?: boolean } = {},
): Connection<N> {
  const { last } = args;
  const first = args.first == null && last == null && opts.unbounded ? Number.MAX_SAFE_INTEGER : args.first;
  if (first == null && last == null)
    throw new GraphQLError("you must provide one of first or last", { extensions: { code: "BAD_REQUEST" } });
  if (first != null && last != null)
    throw new GraphQLError("providing both first and last is not supported", { extensions: { code: "BAD_REQUEST" } });
  const size = (first ?? last)!;
  if (size < 0) throw new GraphQLError("first and last must be non-negative", { extensions: { code: "BAD_REQUEST" } });
  if (size > MAX_PAGE_SIZE && !opts.unbounded) {
    throw new GraphQLError(`The maximum number of items that can be requested per page is ${MAX_PAGE_SIZE}.`, {
      extensions: { code: "MAX_PAGE_SIZE_EXCEEDED" },
    });
  }

  const direction = args.reverse ? -1 : 1;
  const compare = (a: { id: number; value: SortValue }, b: { id: number; value: SortValue }) =>
    direction * (compareValues(a.value, b.value) || a.id - b.id);
  let list = items.map((item) => ({ item, key: keyOf(item) })).sort((a, b) => compare(a.key, b.key));
  const total = list.length;
  let droppedBefore = false;
  let droppedAfter = false;
  if (args.after) {
    const key = decodeCursor(args.after);
    const before = list.length;
    list = list.filter((entry) => compare(entry.key, key) > 0);
    droppedBefore = list.length < before;
  }
  if (args.before) {
    const key = decodeCursor(args.before);
    const before = list.length;
    list = list.filter((entry) => compare(entry.key, key) < 0);
    droppedAfter = list.length < before;
  }
  let page: typeof list;
  let hasNextPage: boolean;
  let hasPreviousPage: boolean;
  if (first != null) {
    page = list.slice(0, size);
    hasNextPage = list.length > size;
    hasPreviousPage = droppedBefore && total > 0;
  } else {
    page = list.slice(Math.max(0, list.length - size));
    hasPreviousPage = list.length > size;
    hasNextPage = droppedAfter && total > 0;
  }
  const edges = page.map(({ item, key }) => ({ cursor: encodeCursor(key), node: toNode(item) }));
  return {
    edges,
    nodes: edges.map((e) => e.node),
    pageInfo: { hasNextPage, hasPreviousPage, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
  };
}

function compareValues(a: SortValue, b: SortValue): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), "en", { sensitivity: "base" });
}

export function encodeCursor(key: { id: number; value: SortValue }): string {
  return Buffer.from(JSON.stringify({ last_id: key.id, last_value: key.value })).toString("base64");
}

function decodeCursor(cursor: string): { id: number; value: SortValue } {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, "base64").toString("utf8")) as { last_id?: unknown; last_value?: unknown };
    if (typeof parsed.last_id === "number" && (typeof parsed.last_value === "string" || typeof parsed.last_value === "number")) {
      return { id: parsed.last_id, value: parsed.last_value };
    }
  } catch {
    // fall through to the error below
  }
  throw new GraphQLError(`Invalid cursor for current pagination sort.`, { extensions: { code: "BAD_REQUEST" } });
}
