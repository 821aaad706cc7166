import {
  execute,
  getOperationAST,
  GraphQLError,
  Kind,
  parse,
  validate,
  type ASTNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLFormattedError,
  type SelectionSetNode,
} from "graphql";
import { calculateQueryCost } from "./cost";
import { fieldResolver, mutationRoot, queryRoot, type ResolverContext } from "./resolvers";
import { loadAdminSchema } from "./schema";

const RATE_LIMIT_DOCS = "https://shopify.dev/api/usage/rate-limits";
const DOCUMENT_CACHE_LIMIT = 500;
/** Shopify refuses any single query above this cost, whatever the bucket size (Plus buckets hold more). */
export const MAX_SINGLE_QUERY_COST = 1000;

export interface GraphqlBody {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

type Checked = { document: DocumentNode; errors: readonly GraphQLFormattedError[] };
const documentCache = new Map<string, Checked>();

/** Parse + validate against the real schema, cached by query text (pagination repeats one query). */
function checkDocument(query: string): Checked {
  const cached = documentCache.get(query);
  if (cached) return cached;
  let result: Checked;
  try {
    const document = parse(query);
    const errors = validate(loadAdminSchema(), document).map((e) => formatValidationError(e, document));
    result = { document, errors };
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    result = {
      document: { kind: Kind.DOCUMENT, definitions: [] },
      errors: [{ message: error.message, locations: error.locations, extensions: { code: "GRAPHQL_PARSE_FAILED" } }],
    };
  }
  if (documentCache.size >= DOCUMENT_CACHE_LIMIT) documentCache.delete(documentCache.keys().next().value!);
  documentCache.set(query, result);
  return result;
}

/**
 * One Admin GraphQL request for an authenticated shop: validation errors, the calculated cost and
 * the leaky bucket (THROTTLED / MAX_COST_EXCEEDED) behave as Shopify's do; the HTTP status is 200.
 */
export async function runGraphql(ctx: ResolverContext, body: GraphqlBody): Promise<{ status: number; body: unknown }> {
  if (typeof body.query !== "string" || !body.query.trim()) {
    return { status: 400, body: { errors: { query: "Required parameter missing or invalid" } } };
  }
  const variables = body.variables && typeof body.variables === "object" ? (body.variables as Record<string, unknown>) : {};
  const operationName = typeof body.operationName === "string" ? body.operationName : null;
  const { document, errors } = checkDocument(body.query);
  if (errors.length) return { status: 200, body: { errors } };

  const operation = getOperationAST(document, operationName);
  if (!operation) {
    const message = operationName ? `No operation named "${operationName}"` : "An operation name is required";
    return { status: 200, body: { errors: [{ message, extensions: { code: "OPERATION_NAME_REQUIRED" } }] } };
  }
  const loggedName = operation.name?.value ?? operationName;
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments[def.name.value] = def;

  const schema = loadAdminSchema();
  const requested = calculateQueryCost(schema, operation, fragments, variables);
  const bucket = ctx.shop.bucket;
  if (requested > MAX_SINGLE_QUERY_COST) {
    ctx.shop.log.push({ operationName: loggedName, requestedCost: requested, throttled: false, at: Date.now() });
    return {
      status: 200,
      body: {
        errors: [
          {
            message: `Query cost is ${requested}, which exceeds the single query max cost limit (${MAX_SINGLE_QUERY_COST}).

See ${RATE_LIMIT_DOCS} for more information, and the query cost calculator for how to reduce it.`,
            extensions: { code: "MAX_COST_EXCEEDED", cost: requested, maxCost: MAX_SINGLE_QUERY_COST, documentation: RATE_LIMIT_DOCS },
          },
        ],
        extensions: costExtension(requested, null, bucket.status()),
      },
    };
  }
  if (!bucket.take(requested)) {
    ctx.shop.log.push({ operationName: loggedName, requestedCost: requested, throttled: true, at: Date.now() });
    return {
      status: 200,
      body: {
        errors: [{ message: "Throttled", extensions: { code: "THROTTLED", documentation: RATE_LIMIT_DOCS } }],
        extensions: costExtension(requested, null, bucket.status()),
      },
    };
  }
  ctx.shop.log.push({ operationName: loggedName, requestedCost: requested, throttled: false, at: Date.now() });

  const result = await execute({
    schema,
    document,
    operationName: operation.name?.value ?? operationName,
    variableValues: variables,
    contextValue: ctx,
    rootValue: operation.operation === "mutation" ? mutationRoot(ctx) : queryRoot(ctx),
    fieldResolver,
  });
  const actual =
    operation.operation === "mutation" ? requested : calculateQueryCost(schema, operation, fragments, variables, result.data ?? null);
  bucket.refund(requested - actual);
  const out: Record<string, unknown> = {};
  if (result.errors?.length) out.errors = result.errors.map((e) => e.toJSON());
  if (result.data !== undefined) out.data = result.data;
  out.extensions = costExtension(requested, actual, bucket.status());
  return { status: 200, body: out };
}

function costExtension(
  requested: number,
  actual: number | null,
  throttleStatus: { maximumAvailable: number; currentlyAvailable: number; restoreRate: number },
) {
  return { cost: { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus } };
}

/** graphql-js validation errors in the shape graphql-ruby (Shopify) gives them: a code and a path. */
function formatValidationError(error: GraphQLError, document: DocumentNode): GraphQLFormattedError {
  const node = error.nodes?.[0];
  const path = node ? pathTo(document, node) : undefined;
  return {
    message: error.message,
    locations: error.locations,
    ...(path ? { path } : {}),
    extensions: { code: validationCode(error.message) },
  };
}

const VALIDATION_CODES: Array<[RegExp, string]> = [
  [/^Cannot query field/, "undefinedField"],
  [/^Unknown argument/, "argumentNotAccepted"],
  [/is required, but it was not provided/, "missingRequiredArguments"],
  [/^Unknown type/, "undefinedType"],
  [/^Variable ".*" is never used/, "variableNotUsed"],
  [/^Variable ".*" is not defined/, "undefinedVariable"],
  [/used in position expecting/, "variableMismatch"],
  [/must have a selection of subfields/, "selectionMismatch"],
  [/must not have a selection/, "selectionMismatch"],
  [/^Fragment ".*" is never used/, "useAndDefineFragment"],
  [/^Unknown fragment/, "undefinedFragment"],
  [/^There can be only one operation named/, "uniquelyNamedOperations"],
  [/cannot represent|^Expected value of type|^Enum ".*" cannot represent/, "argumentLiteralsIncompatible"],
];

function validationCode(message: string): string {
  return VALIDATION_CODES.find(([re]) => re.test(message))?.[1] ?? "GRAPHQL_VALIDATION_FAILED";
}

/** ["query Name", "products", "edges", ...] down to `target`, like graphql-ruby's error paths. */
function pathTo(document: DocumentNode, target: ASTNode): string[] | undefined {
  const walkSelections = (set: SelectionSetNode | undefined, path: string[]): string[] | undefined => {
    for (const selection of set?.selections ?? []) {
      if (selection === target) return [...path, selectionLabel(selection)];
      if (selection.kind === Kind.FIELD) {
        const here = [...path, selection.name.value];
        for (const arg of selection.arguments ?? []) if (arg === target || arg.value === target) return [...here, arg.name.value];
        const found = walkSelections(selection.selectionSet, here);
        if (found) return found;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const found = walkSelections(selection.selectionSet, [...path, selectionLabel(selection)]);
        if (found) return found;
      }
    }
    return undefined;
  };
  for (const def of document.definitions) {
    if (def.kind === Kind.OPERATION_DEFINITION) {
      const root = def.name ? `${def.operation} ${def.name.value}` : def.operation;
      if (def === target) return [root];
      const found = walkSelections(def.selectionSet, [root]);
      if (found) return found;
    } else if (def.kind === Kind.FRAGMENT_DEFINITION) {
      const root = `fragment ${def.name.value}`;
      if (def === target) return [root];
      const found = walkSelections(def.selectionSet, [root]);
      if (found) return found;
    }
  }
  return undefined;
}

function selectionLabel(selection: SelectionSetNode["selections"][number]): string {
  if (selection.kind === Kind.FIELD) return selection.name.value;
  if (selection.kind === Kind.INLINE_FRAGMENT) return selection.typeCondition ? `... on ${selection.typeCondition.name.value}` : "...";
  return `... ${selection.name.value}`;
}
