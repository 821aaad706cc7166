/**
 * The one way the app calls Shopify's Admin GraphQL API. Every document is a `#graphql` literal typed by the codegen
 * (`npm run graphql:codegen` writes app/types/admin.generated.d.ts), so `runGraphql(admin, DOCUMENT, variables)` knows
 * the document's variables and result. The runner maps what Shopify answers, whichever client made the call, onto the
 * errors below: THROTTLED (a GraphQL error or HTTP 429) becomes ShopifyThrottledError with the wait the bucket needs,
 * anything else ShopifyApiError with the HTTP status when there is one.
 */
import type { AdminMutations, AdminOperations, AdminQueries, ApiClientRequestOptions } from "@shopify/admin-api-client";
import type { AdminGraphqlClient } from "@shopify/shopify-app-remix/server";
import { AppError } from "~/lib/app-error";
import type { MerchantMessage } from "~/lib/merchant-message";

/** An Admin GraphQL client: `admin.graphql` from shopify-app-remix, or the worker's offline one (same type). */
export type AdminGraphql = AdminGraphqlClient;

/** The generated operations only (the client's own interfaces also take any string, typed `any`). */
type Generated<Operations> = {
  [
    Document in keyof Operations as string extends Document
      ? never
      : number extends Document
        ? never
        : symbol extends Document
          ? never
          : Document
  ]: Operations[Document];
};
type AdminDocuments = Generated<AdminQueries> & Generated<AdminMutations>;

/** The text of a `#graphql` document the codegen has typed. */
export type AdminDocument = keyof AdminDocuments & string;
export type AdminResult<Document extends AdminDocument> = AdminDocuments[Document]["return"];
export type AdminVariables<Document extends AdminDocument> = AdminDocuments[Document]["variables"];
/** Variables are required when the document declares any required ones. */
type VariablesArgument<Document extends AdminDocument> =
  Record<string, never> extends AdminVariables<Document> ? [variables?: AdminVariables<Document>] : [variables: AdminVariables<Document>];

export interface QueryCost {
  requested: number;
  actual: number | null;
}

/** Shopify answered THROTTLED: wait `retryAfterMs` (what the bucket needs to refill) and try again. */
export class ShopifyThrottledError extends AppError {
  readonly retryAfterMs: number;
  /**
   * Time until the bucket is half full again (at least `retryAfterMs`): what a shop's queued jobs wait. Let go after
   * `retryAfterMs`, they would spend each refill on their first calls and be throttled again on the next.
   */
  readonly refillMs: number;
  constructor(retryAfterMs: number, refillMs = retryAfterMs) {
    super(`Shopify is rate limiting this store's API calls; retrying in ${Math.ceil(retryAfterMs / 1000)} s.`, {
      merchantMessage: "Shopify is busy with this store's requests. Try again in a few seconds.",
      merchant: { code: "shopifyBusy" },
      httpStatus: 503,
      retryable: true,
    });
    this.name = "ShopifyThrottledError";
    this.retryAfterMs = retryAfterMs;
    this.refillMs = Math.max(retryAfterMs, refillMs);
  }
}

export interface ShopifyUserErrorDetail {
  field?: readonly string[] | null;
  message: string;
  code?: string | null;
}

/** What a merchant reads when Shopify refused or failed a change they asked for. */
const refusedChange = (message: string) => `Shopify refused the change: ${message}. Nothing was changed; try again.`;
const refusedChangeMessage = (message: string): MerchantMessage => ({ code: "shopifyRefused", params: { detail: message } });

/** A mutation returned userErrors: it did nothing. */
export class ShopifyUserError extends AppError {
  readonly userErrors: readonly ShopifyUserErrorDetail[];
  constructor(operation: string, userErrors: readonly ShopifyUserErrorDetail[]) {
    const message = `Shopify refused ${operation}: ${userErrors.map((e) => e.message).join("; ")}`;
    super(message, { merchantMessage: refusedChange(message), merchant: refusedChangeMessage(message), httpStatus: 502 });
    this.name = "ShopifyUserError";
    this.userErrors = userErrors;
  }
}

/** Any other GraphQL-level or HTTP-level failure. `shopifyStatus` is the HTTP status Shopify answered, when known. */
export class ShopifyApiError extends AppError {
  readonly shopifyStatus: number | null;
  readonly codes: string[];
  constructor(message: string, shopifyStatus: number | null, codes: string[] = []) {
    super(message, {
      merchantMessage: refusedChange(message),
      merchant: refusedChangeMessage(message),
      httpStatus: 502,
      retryable: !isTerminal(shopifyStatus, codes),
    });
    this.name = "ShopifyApiError";
    this.shopifyStatus = shopifyStatus;
    this.codes = codes;
  }
  /** 401/402/403/404/423 and access errors will not get better by retrying. */
  get terminal(): boolean {
    return !this.retryable;
  }
}

function isTerminal(shopifyStatus: number | null, codes: readonly string[]): boolean {
  if (shopifyStatus !== null && [401, 402, 403, 404, 423].includes(shopifyStatus)) return true;
  return codes.some((c) => c === "ACCESS_DENIED" || c === "NOT_FOUND" || c === "UNAUTHORIZED");
}

export function assertNoUserErrors(operation: string, userErrors: readonly ShopifyUserErrorDetail[] | undefined | null): void {
  if (userErrors && userErrors.length > 0) throw new ShopifyUserError(operation, userErrors);
}

interface GraphqlError {
  message: string;
  extensions?: { code?: string };
}
interface CostExtension {
  requestedQueryCost?: number;
  actualQueryCost?: number | null;
  throttleStatus?: { maximumAvailable?: number; currentlyAvailable?: number; restoreRate?: number };
}
interface GraphqlBody {
  data?: unknown;
  errors?: string | GraphqlError[] | { graphQLErrors?: GraphqlError[]; message?: string; networkStatusCode?: number };
  extensions?: { cost?: CostExtension };
}

/** Time the leaky bucket needs to hold `requested` points again: (requested - available) / restoreRate. */
export function throttleDelayMs(cost: CostExtension | undefined, fallbackMs = 1000): number {
  const requested = cost?.requestedQueryCost;
  const available = cost?.throttleStatus?.currentlyAvailable;
  const restoreRate = cost?.throttleStatus?.restoreRate;
  if (requested === undefined || available === undefined || !restoreRate) return fallbackMs;
  return Math.max(50, Math.ceil((Math.max(0, requested - available) / restoreRate) * 1000));
}

/** Time the leaky bucket needs to be half full again, or to hold `requested` points if that is more. */
function halfBucketDelayMs(cost: CostExtension | undefined, fallbackMs: number): number {
  const maximum = cost?.throttleStatus?.maximumAvailable;
  if (maximum === undefined) return fallbackMs;
  return throttleDelayMs({ ...cost, requestedQueryCost: Math.max(cost?.requestedQueryCost ?? 0, maximum / 2) }, fallbackMs);
}

/** A THROTTLED answer as an error, with both waits read from its cost extension. */
function throttledError(cost: CostExtension | undefined, fallbackMs?: number): ShopifyThrottledError {
  const retryAfterMs = throttleDelayMs(cost, fallbackMs);
  return new ShopifyThrottledError(retryAfterMs, halfBucketDelayMs(cost, retryAfterMs));
}

function graphqlErrorsOf(body: GraphqlBody): GraphqlError[] {
  if (!body.errors) return [];
  // REST-style refusals (402 `{"errors":"Unavailable Shop"}`) give the message alone.
  if (typeof body.errors === "string") return [{ message: body.errors }];
  if (Array.isArray(body.errors)) return body.errors;
  if (body.errors.graphQLErrors?.length) return body.errors.graphQLErrors;
  return [{ message: body.errors.message ?? "GraphQL request failed" }];
}

function failFromBody(operation: string, body: GraphqlBody, status: number | null): never {
  const errors = graphqlErrorsOf(body);
  const codes = errors.map((e) => e.extensions?.code ?? "").filter(Boolean);
  if (codes.includes("THROTTLED")) throw throttledError(body.extensions?.cost);
  const networkStatus =
    body.errors && typeof body.errors === "object" && !Array.isArray(body.errors) ? body.errors.networkStatusCode : undefined;
  throw new ShopifyApiError(
    `Shopify ${operation} failed: ${errors.map((e) => e.message).join("; ")}`,
    status ?? networkStatus ?? null,
    codes,
  );
}

/** `query CatalogProductImages(...)` -> `CatalogProductImages` (for error messages and logs). */
function operationName(document: string): string {
  return /\b(?:query|mutation)\s+(\w+)/.exec(document)?.[1] ?? "Admin API call";
}

/**
 * Runs one typed document and returns its data and cost. Accepts both shapes the Admin client can produce: a
 * Response with `errors` in the JSON, or a thrown GraphqlQueryError / Response (shopify-api throws on GraphQL errors,
 * shopify-app-remix rethrows HTTP errors as a Response).
 */
export async function runGraphql<Document extends AdminDocument>(
  graphql: AdminGraphql,
  document: Document,
  ...[variables]: VariablesArgument<Document>
): Promise<{ data: AdminResult<Document>; cost: QueryCost }> {
  const operation = operationName(document);
  let response: Response;
  try {
    // For each document the client's variables type is the generated one; for the generic `Document` TypeScript cannot
    // relate the client's conditional type to it, so the variables are given the client's type here.
    response = await graphql(
      document,
      variables ? { variables: variables as ApiClientRequestOptions<Document, AdminOperations>["variables"] } : undefined,
    );
  } catch (error) {
    if (error instanceof Response) {
      const body = (await error.json().catch(() => ({}))) as GraphqlBody;
      if (error.status === 429) throw throttledError(body.extensions?.cost, 2000);
      failFromBody(operation, { errors: [{ message: `HTTP ${error.status}` }], ...body }, error.status);
    }
    // shopify-api's errors (the worker's offline client): GraphqlQueryError carries the body, HttpResponseError (any
    // HTTP failure, such as a frozen store's 402 or a locked one's 423) its status and body on `response`.
    const thrown = error as { body?: GraphqlBody; response?: { status?: number; code?: number; body?: unknown } };
    const status = thrown?.response?.status ?? thrown?.response?.code ?? null;
    const body = thrown?.body ?? thrown?.response?.body;
    if (thrown && typeof thrown === "object" && ((body && typeof body === "object") || status !== null)) {
      if (status === 429) throw new ShopifyThrottledError(2000);
      failFromBody(operation, { errors: [{ message: `HTTP ${status}` }], ...(body && typeof body === "object" ? body : {}) }, status);
    }
    throw error;
  }
  if (response.status === 429) throw new ShopifyThrottledError(2000);
  const body = (await response.json()) as GraphqlBody;
  if (!response.ok || graphqlErrorsOf(body).length > 0 || body.data === undefined || body.data === null) {
    failFromBody(operation, body, response.ok ? null : response.status);
  }
  const cost = body.extensions?.cost;
  return {
    data: body.data as AdminResult<Document>,
    cost: { requested: cost?.requestedQueryCost ?? 0, actual: cost?.actualQueryCost ?? null },
  };
}

/**
 * Calls throttled together wait the same refill and retry together, so only some get through each time: a little
 * past the refill, and again while the budget lasts.
 */
const REFILL_MARGIN_MS = 100;

/**
 * How a read meets THROTTLED: "wait" waits it out in place (a web request, whose merchant waits for the answer);
 * "rethrow" hands ShopifyThrottledError to the caller (a job, which its worker delays until the shop's bucket is half
 * full, freeing its slot; waiting in place for one call's points, the job would be throttled again on its next call).
 */
export type ThrottledRead = "wait" | "rethrow";

/** `read` as `throttled` says (see ThrottledRead). */
export function readThrottled<T>(throttled: ThrottledRead, read: () => Promise<T>): Promise<T> {
  return throttled === "wait" ? withThrottleRetry(read) : read();
}

/** Waits out a THROTTLED answer a few times (for interactive reads that must complete), at most `maxTotalWaitMs` in all. */
export async function withThrottleRetry<T>(fn: () => Promise<T>, opts: { maxWaits?: number; maxTotalWaitMs?: number } = {}): Promise<T> {
  const { maxWaits = 5, maxTotalWaitMs = Number.POSITIVE_INFINITY } = opts;
  let waited = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof ShopifyThrottledError) || attempt >= maxWaits) throw error;
      const wait = Math.min(error.retryAfterMs, 10_000) + REFILL_MARGIN_MS;
      if (waited + wait > maxTotalWaitMs) throw error;
      waited += wait;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
