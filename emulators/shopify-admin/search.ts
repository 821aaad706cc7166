import { inCollection, type CollectionRecord, type ProductRecord } from "./store";

/**
 * A subset of Shopify's search syntax for `products(query:)`: plain terms, `field:value` (title,
 * handle, status, vendor, product_type, tag, id, collection_id), `*` wildcards, comma lists (`status:active,draft`),
 * quoted phrases, implicit AND, `AND`, `OR`, `NOT`/`-` and parentheses. Matching is case-insensitive;
 * a term without a wildcard matches the start of any word (Shopify's prefix matching).
 */
export type ProductPredicate = (product: ProductRecord) => boolean;

type Token = { kind: "word"; text: string } | { kind: "lparen" } | { kind: "rparen" };

export function parseProductQuery(query: string | null | undefined, collections: readonly CollectionRecord[] = []): ProductPredicate {
  if (!query || !query.trim()) return () => true;
  const tokens = tokenize(query);
  let pos = 0;
  const peek = () => tokens[pos];
  const isWord = (text: string) => {
    const t = peek();
    return t?.kind === "word" && t.text === text;
  };

  const parseOr = (): ProductPredicate => {
    const parts = [parseAnd()];
    while (isWord("OR")) {
      pos++;
      parts.push(parseAnd());
    }
    return parts.length === 1 ? parts[0]! : (p) => parts.some((f) => f(p));
  };
  const parseAnd = (): ProductPredicate => {
    const parts: ProductPredicate[] = [];
    for (;;) {
      const t = peek();
      if (!t || t.kind === "rparen" || isWord("OR")) break;
      if (isWord("AND")) {
        pos++;
        continue;
      }
      parts.push(parseUnary());
    }
    return parts.length === 1 ? parts[0]! : (p) => parts.every((f) => f(p));
  };
  const parseUnary = (): ProductPredicate => {
    const t = peek()!;
    if (t.kind === "word" && t.text === "NOT") {
      pos++;
      const inner = parseUnary();
      return (p) => !inner(p);
    }
    if (t.kind === "lparen") {
      pos++;
      const inner = parseOr();
      if (peek()?.kind === "rparen") pos++;
      return inner;
    }
    pos++;
    if (t.kind === "rparen") return () => true;
    if (t.text.startsWith("-") && t.text.length > 1) {
      const inner = termPredicate(t.text.slice(1), collections);
      return (p) => !inner(p);
    }
    return termPredicate(t.text, collections);
  };

  return parseOr();
}

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(\(|\)|(?:[^\s()"]*"[^"]*"[^\s()]*)+|[^\s()]+)/g;
  let match: RegExpExecArray | null;
  while ((match = re.exec(query)) !== null) {
    const text = match[1];
    if (!text) break;
    if (text === "(") tokens.push({ kind: "lparen" });
    else if (text === ")") tokens.push({ kind: "rparen" });
    else tokens.push({ kind: "word", text });
  }
  return tokens;
}

const FIELD_VALUES: Record<string, (p: ProductRecord) => string[]> = {
  title: (p) => [p.title],
  handle: (p) => [p.handle],
  status: (p) => [p.status],
  vendor: (p) => [p.vendor],
  product_type: (p) => [p.productType],
  tag: (p) => p.tags,
  tags: (p) => p.tags,
  id: (p) => [String(p.numericId), p.id],
};

function termPredicate(raw: string, collections: readonly CollectionRecord[]): ProductPredicate {
  const colon = raw.indexOf(":");
  const field = colon > 0 ? raw.slice(0, colon).toLowerCase() : null;
  if (field === "collection_id") {
    const wanted = new Set(
      unquote(raw.slice(colon + 1))
        .split(",")
        .map((v) => v.trim()),
    );
    const matching = collections.filter((c) => wanted.has(String(c.numericId)));
    return (p) => matching.some((c) => inCollection(c, p));
  }
  if (field && FIELD_VALUES[field]) {
    const valuesOf = FIELD_VALUES[field];
    const alternatives = unquote(raw.slice(colon + 1))
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean);
    if (field === "status" || field === "id") {
      const wanted = alternatives.map((a) => a.toLowerCase());
      return (p) => valuesOf(p).some((v) => wanted.includes(v.toLowerCase()));
    }
    const matchers = alternatives.map(valueMatcher);
    return (p) => valuesOf(p).some((v) => matchers.some((m) => m(v)));
  }
  const matcher = valueMatcher(unquote(raw));
  return (p) => [p.title, p.handle, p.vendor, p.productType, ...p.tags].some(matcher);
}

function valueMatcher(pattern: string): (value: string) => boolean {
  const lower = pattern.toLowerCase();
  if (lower.includes("*")) {
    const re = new RegExp(`^${lower.split("*").map(escapeRegExp).join(".*")}$`, "s");
    return (value) => re.test(value.toLowerCase());
  }
  return (value) => {
    const v = value.toLowerCase();
    if (v === lower || v.startsWith(lower)) return true;
    return v.split(/[^a-z0-9]+/).some((word) => word.startsWith(lower)) || (lower.includes(" ") && v.includes(lower));
  };
}

function unquote(text: string): string {
  return text.replace(/"/g, "");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
