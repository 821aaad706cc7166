/**
 * Bulk operations as Shopify runs them: `bulkOperationRunQuery` validates the query against the schema and starts
 * it (one query operation per shop at a time: OPERATION_IN_PROGRESS otherwise), the operation goes CREATED ->
 * RUNNING -> COMPLETED, the result is a JSONL file (one line per node; a nested connection's nodes are lines of
 * their own with `__parentId`) behind `url`. When an operation ends (completed, failed or canceled) the stand-in sends
 * `bulk_operations/finish` as Shopify does, with Shopify's payload (bulkFinishPayload).
 */
import { execute, parse, validate, type DocumentNode } from "graphql";
import { fieldResolver, queryRoot, type ResolverContext } from "./resolvers";
import { loadAdminSchema } from "./schema";
import { randomHex, type EmulatorStore, type ShopState } from "./store";
import { Timers } from "./timers";

export type BulkStatus = "CREATED" | "RUNNING" | "COMPLETED" | "CANCELING" | "CANCELED" | "FAILED" | "EXPIRED";

export interface BulkOperationRecord {
  id: string;
  shop: string;
  type: "QUERY";
  query: string;
  status: BulkStatus;
  errorCode: string | null;
  createdAt: Date;
  completedAt: Date | null;
  objectCount: number;
  rootObjectCount: number;
  fileSize: number | null;
  url: string | null;
  token: string;
  jsonl: string | null;
}

export interface BulkUserError {
  field: string[] | null;
  message: string;
  code?: string;
}

type Obj = Record<string, unknown>;

function isConnection(value: unknown): value is { edges?: Array<{ node: Obj }>; nodes?: Obj[] } {
  return Boolean(value) && typeof value === "object" && (Array.isArray((value as Obj).edges) || Array.isArray((value as Obj).nodes));
}

function nodesOf(connection: { edges?: Array<{ node: Obj }>; nodes?: Obj[] }): Obj[] {
  return connection.edges ? connection.edges.map((e) => e.node) : (connection.nodes ?? []);
}

/** The JSONL lines of a bulk query's result: every node of every connection, children naming their parent. */
export function flattenBulkResult(data: Obj): { lines: string[]; roots: number } {
  const lines: string[] = [];
  const emit = (node: Obj, parentId: string | null) => {
    const own: Obj = {};
    const children: Obj[] = [];
    for (const [key, value] of Object.entries(node)) {
      if (isConnection(value)) children.push(...nodesOf(value));
      else own[key] = value;
    }
    if (parentId) own.__parentId = parentId;
    lines.push(JSON.stringify(own));
    for (const child of children) emit(child, typeof node.id === "string" ? node.id : null);
  };
  let roots = 0;
  for (const value of Object.values(data)) {
    if (!isConnection(value)) continue;
    for (const node of nodesOf(value)) {
      roots++;
      emit(node, null);
    }
  }
  return { lines, roots };
}

export const BULK_FINISH_TOPIC = "bulk_operations/finish";

/**
 * The bulk_operations/finish payload as Shopify sends it: the operation's gid and times, and its status, error code
 * and type in lower case (unlike the GraphQL enums); no URL: the app reads the operation for it.
 */
export function bulkFinishPayload(op: BulkOperationRecord): Record<string, unknown> {
  return {
    admin_graphql_api_id: op.id,
    completed_at: op.completedAt?.toISOString() ?? null,
    created_at: op.createdAt.toISOString(),
    error_code: op.errorCode?.toLowerCase() ?? null,
    status: op.status.toLowerCase(),
    type: op.type.toLowerCase(),
  };
}

export class BulkService {
  private readonly operations = new Map<string, BulkOperationRecord>();
  private readonly byToken = new Map<string, BulkOperationRecord>();
  private readonly timers = new Timers();

  constructor(
    private readonly store: EmulatorStore,
    private readonly runMs: number,
    /** Called once an operation has ended (Shopify's bulk_operations/finish). */
    private readonly onFinish: (op: BulkOperationRecord) => void = () => undefined,
  ) {}

  close(): void {
    this.timers.clear();
  }

  find(shop: ShopState, id: string): BulkOperationRecord | undefined {
    const op = this.operations.get(id);
    return op && op.shop === shop.domain ? op : undefined;
  }

  /** The shop's latest query operation (what the deprecated `currentBulkOperation` answers). */
  current(shop: ShopState, type: string): BulkOperationRecord | undefined {
    if (type !== "QUERY") return undefined;
    return [...this.operations.values()].filter((op) => op.shop === shop.domain).at(-1);
  }

  jsonl(token: string): string | undefined {
    return this.byToken.get(token)?.jsonl ?? undefined;
  }

  runQuery(ctx: ResolverContext, query: string): { operation: BulkOperationRecord | null; userErrors: BulkUserError[] } {
    const running = this.current(ctx.shop, "QUERY");
    if (running && (running.status === "CREATED" || running.status === "RUNNING" || running.status === "CANCELING")) {
      return {
        operation: null,
        userErrors: [
          {
            field: ["query"],
            code: "OPERATION_IN_PROGRESS",
            message: `A bulk query operation for this app and shop is already in progress: ${running.id}.`,
          },
        ],
      };
    }
    let document: DocumentNode;
    try {
      document = parse(query);
    } catch (error) {
      return {
        operation: null,
        userErrors: [{ field: ["query"], code: "INVALID", message: `Invalid bulk query: ${(error as Error).message}` }],
      };
    }
    const errors = validate(loadAdminSchema(), document);
    if (errors.length)
      return { operation: null, userErrors: [{ field: ["query"], code: "INVALID", message: `Invalid bulk query: ${errors[0]!.message}` }] };
    if (document.definitions.some((d) => d.kind === "OperationDefinition" && d.operation !== "query")) {
      return {
        operation: null,
        userErrors: [
          { field: ["query"], code: "INVALID", message: "Bulk queries cannot contain a mutation; use bulkOperationRunMutation." },
        ],
      };
    }
    const numericId = this.store.newId();
    const op: BulkOperationRecord = {
      id: `gid://shopify/BulkOperation/${numericId}`,
      shop: ctx.shop.domain,
      type: "QUERY",
      query,
      status: "CREATED",
      errorCode: null,
      createdAt: new Date(),
      completedAt: null,
      objectCount: 0,
      rootObjectCount: 0,
      fileSize: null,
      url: null,
      token: randomHex(16),
      jsonl: null,
    };
    this.operations.set(op.id, op);
    this.byToken.set(op.token, op);
    this.timers.later(0, () => {
      if (op.status === "CREATED") op.status = "RUNNING";
    });
    const startedAt = Date.now();
    // The query runs after the mutation has answered, as Shopify's do (in the background).
    void new Promise<void>((resolve) => this.timers.later(0, resolve))
      .then(() =>
        execute({
          schema: loadAdminSchema(),
          document,
          contextValue: { ...ctx, inBulkQuery: true },
          rootValue: queryRoot({ ...ctx, inBulkQuery: true }),
          fieldResolver,
        }),
      )
      .then(
        (result) =>
          this.timers.later(Math.max(0, startedAt + this.runMs - Date.now()), () => {
            if (op.status !== "RUNNING" && op.status !== "CREATED") return;
            if (result.errors?.length || !result.data) return this.finish(op, "FAILED", "INTERNAL_SERVER_ERROR");
            const { lines, roots } = flattenBulkResult(result.data as Obj);
            op.jsonl = lines.length ? `${lines.join("\n")}\n` : "";
            op.objectCount = lines.length;
            op.rootObjectCount = roots;
            op.fileSize = Buffer.byteLength(op.jsonl);
            // Like Shopify, an operation that found nothing has no file.
            op.url = lines.length ? `${this.store.baseUrl}/bulk-operation-outputs/${op.token}.jsonl` : null;
            this.finish(op, "COMPLETED", null);
          }),
        () => this.finish(op, "FAILED", "INTERNAL_SERVER_ERROR"),
      );
    return { operation: op, userErrors: [] };
  }

  cancel(shop: ShopState, id: string): { operation: BulkOperationRecord | null; userErrors: BulkUserError[] } {
    const op = this.find(shop, id);
    if (!op) return { operation: null, userErrors: [{ field: ["id"], message: "Bulk operation does not exist" }] };
    if (op.status !== "CREATED" && op.status !== "RUNNING") {
      return {
        operation: op,
        userErrors: [{ field: ["id"], message: `A bulk operation cannot be canceled when it is ${op.status.toLowerCase()}` }],
      };
    }
    op.status = "CANCELING";
    this.timers.later(0, () => this.finish(op, "CANCELED", null));
    return { operation: op, userErrors: [] };
  }

  private finish(op: BulkOperationRecord, status: BulkStatus, errorCode: string | null): void {
    op.status = status;
    op.errorCode = errorCode;
    op.completedAt = new Date();
    this.onFinish(op);
  }
}
