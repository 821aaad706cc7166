import {
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  isAbstractType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";

/** Every top-level mutation field costs this much, whatever its payload selects (Shopify's rule). */
export const MUTATION_COST = 10;

interface CostContext {
  schema: GraphQLSchema;
  fragments: Record<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
}

/**
 * Shopify's calculated query cost: scalars and enums 0, objects 1, interfaces and unions the maximum
 * over their possible types, connections 2 + (first|last) x the cost of one node, mutations 10.
 * With `data` (the executed result) connections count the nodes actually returned instead, which
 * gives `actualQueryCost`.
 */
export function calculateQueryCost(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
  data?: Record<string, unknown> | null,
): number {
  const ctx: CostContext = { schema, fragments, variables };
  if (operation.operation === "mutation") {
    const fields = collectFields(ctx, operation.selectionSet, schema.getMutationType()!);
    return fields.size * MUTATION_COST;
  }
  const root = operation.operation === "subscription" ? schema.getSubscriptionType() : schema.getQueryType();
  if (!root) return 0;
  if (data === undefined) return selectionCost(ctx, operation.selectionSet, root);
  return data === null ? 0 : actualSelectionCost(ctx, operation.selectionSet, root, data);
}

function selectionCost(ctx: CostContext, selectionSet: SelectionSetNode, parent: GraphQLCompositeType): number {
  if (isAbstractType(parent)) {
    let max = 0;
    for (const type of ctx.schema.getPossibleTypes(parent)) max = Math.max(max, objectSelectionCost(ctx, selectionSet, type));
    return max;
  }
  return objectSelectionCost(ctx, selectionSet, parent);
}

function objectSelectionCost(ctx: CostContext, selectionSet: SelectionSetNode, type: GraphQLObjectType): number {
  let total = 0;
  for (const nodes of collectFields(ctx, selectionSet, type).values()) {
    const fieldDef = type.getFields()[nodes[0]!.name.value];
    if (!fieldDef) continue;
    total += fieldCost(ctx, fieldDef, nodes);
  }
  return total;
}

function fieldCost(ctx: CostContext, fieldDef: GraphQLField<unknown, unknown>, nodes: FieldNode[]): number {
  const named = getNamedType(fieldDef.type);
  if (isLeafType(named)) return 0;
  const composite = named as GraphQLCompositeType;
  const merged = mergeSelections(nodes);
  const args = safeArgumentValues(ctx, fieldDef, nodes[0]!);
  if (isConnectionType(composite)) {
    const pageSize = pageSizeOf(args);
    return 2 + pageSize * connectionNodeCost(ctx, merged, composite as GraphQLObjectType);
  }
  const single = 1 + selectionCost(ctx, merged, composite);
  if (isListType(unwrapNonNull(fieldDef.type))) {
    const ids = args.ids;
    return Array.isArray(ids) ? single * Math.max(ids.length, 1) : single;
  }
  return single;
}

function connectionNodeCost(ctx: CostContext, selectionSet: SelectionSetNode, connection: GraphQLObjectType): number {
  let perNode = 0;
  for (const nodes of collectFields(ctx, selectionSet, connection).values()) {
    const name = nodes[0]!.name.value;
    const merged = mergeSelections(nodes);
    if (name === "nodes") {
      const nodeType = getNamedType(connection.getFields().nodes!.type) as GraphQLCompositeType;
      perNode = Math.max(perNode, 1 + selectionCost(ctx, merged, nodeType));
    } else if (name === "edges") {
      const edgeType = getNamedType(connection.getFields().edges!.type) as GraphQLObjectType;
      for (const edgeNodes of collectFields(ctx, merged, edgeType).values()) {
        if (edgeNodes[0]!.name.value !== "node") continue;
        const nodeType = getNamedType(edgeType.getFields().node!.type) as GraphQLCompositeType;
        perNode = Math.max(perNode, 1 + selectionCost(ctx, mergeSelections(edgeNodes), nodeType));
      }
    }
  }
  return perNode;
}

function actualSelectionCost(
  ctx: CostContext,
  selectionSet: SelectionSetNode,
  parent: GraphQLCompositeType,
  value: Record<string, unknown>,
): number {
  const typename = typeof value.__typename === "string" ? ctx.schema.getType(value.__typename) : undefined;
  if (isAbstractType(parent)) {
    if (typename && isObjectType(typename)) return actualObjectCost(ctx, selectionSet, typename, value);
    return selectionCost(ctx, selectionSet, parent);
  }
  return actualObjectCost(ctx, selectionSet, parent, value);
}

function actualObjectCost(
  ctx: CostContext,
  selectionSet: SelectionSetNode,
  type: GraphQLObjectType,
  value: Record<string, unknown>,
): number {
  let total = 0;
  for (const [key, nodes] of collectFields(ctx, selectionSet, type)) {
    const fieldDef = type.getFields()[nodes[0]!.name.value];
    if (!fieldDef) continue;
    const named = getNamedType(fieldDef.type);
    if (isLeafType(named)) continue;
    const fieldValue = value[key];
    if (fieldValue === null || fieldValue === undefined) continue;
    const merged = mergeSelections(nodes);
    const composite = named as GraphQLCompositeType;
    if (isConnectionType(composite)) {
      total += 2 + actualConnectionCost(ctx, merged, composite as GraphQLObjectType, fieldValue as Record<string, unknown>);
    } else if (Array.isArray(fieldValue)) {
      for (const item of fieldValue) if (item) total += 1 + actualSelectionCost(ctx, merged, composite, item as Record<string, unknown>);
    } else {
      total += 1 + actualSelectionCost(ctx, merged, composite, fieldValue as Record<string, unknown>);
    }
  }
  return total;
}

function actualConnectionCost(
  ctx: CostContext,
  selectionSet: SelectionSetNode,
  connection: GraphQLObjectType,
  value: Record<string, unknown>,
): number {
  const perItem: number[] = [];
  const add = (index: number, cost: number) => {
    perItem[index] = Math.max(perItem[index] ?? 0, cost);
  };
  for (const [key, nodes] of collectFields(ctx, selectionSet, connection)) {
    const name = nodes[0]!.name.value;
    const merged = mergeSelections(nodes);
    const list = value[key];
    if (!Array.isArray(list)) continue;
    if (name === "nodes") {
      const nodeType = getNamedType(connection.getFields().nodes!.type) as GraphQLCompositeType;
      list.forEach((item, i) => item && add(i, 1 + actualSelectionCost(ctx, merged, nodeType, item as Record<string, unknown>)));
    } else if (name === "edges") {
      const edgeType = getNamedType(connection.getFields().edges!.type) as GraphQLObjectType;
      const nodeType = getNamedType(edgeType.getFields().node!.type) as GraphQLCompositeType;
      for (const [edgeKey, edgeNodes] of collectFields(ctx, merged, edgeType)) {
        if (edgeNodes[0]!.name.value !== "node") continue;
        const edgeSelection = mergeSelections(edgeNodes);
        list.forEach((edge, i) => {
          const node = (edge as Record<string, unknown> | null)?.[edgeKey];
          if (node) add(i, 1 + actualSelectionCost(ctx, edgeSelection, nodeType, node as Record<string, unknown>));
        });
      }
    }
  }
  return perItem.reduce((sum, cost) => sum + (cost ?? 0), 0);
}

/** Field nodes by response key, following fragments that apply to `type` and honouring @skip/@include. */
function collectFields(
  ctx: CostContext,
  selectionSet: SelectionSetNode,
  type: GraphQLObjectType,
  into = new Map<string, FieldNode[]>(),
  seen = new Set<string>(),
): Map<string, FieldNode[]> {
  for (const selection of selectionSet.selections) {
    if (!shouldInclude(ctx, selection)) continue;
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value.startsWith("__")) continue;
      const key = selection.alias?.value ?? selection.name.value;
      const list = into.get(key);
      if (list) list.push(selection);
      else into.set(key, [selection]);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (selection.typeCondition && !appliesTo(ctx, selection.typeCondition.name.value, type)) continue;
      collectFields(ctx, selection.selectionSet, type, into, seen);
    } else {
      const name = selection.name.value;
      const fragment = ctx.fragments[name];
      if (!fragment || seen.has(name) || !appliesTo(ctx, fragment.typeCondition.name.value, type)) continue;
      seen.add(name);
      collectFields(ctx, fragment.selectionSet, type, into, seen);
    }
  }
  return into;
}

function appliesTo(ctx: CostContext, conditionName: string, type: GraphQLObjectType): boolean {
  const condition = ctx.schema.getType(conditionName);
  if (!condition) return false;
  if (condition === type) return true;
  return isAbstractType(condition) && ctx.schema.isSubType(condition, type);
}

function shouldInclude(ctx: CostContext, node: FieldNode | SelectionSetNode["selections"][number]): boolean {
  const skip = getDirectiveValues(GraphQLSkipDirective, node, ctx.variables);
  if (skip?.if === true) return false;
  const include = getDirectiveValues(GraphQLIncludeDirective, node, ctx.variables);
  return include?.if !== false;
}

function mergeSelections(nodes: FieldNode[]): SelectionSetNode {
  const selections = nodes.flatMap((n) => n.selectionSet?.selections ?? []);
  return { kind: Kind.SELECTION_SET, selections };
}

function safeArgumentValues(ctx: CostContext, fieldDef: GraphQLField<unknown, unknown>, node: FieldNode): Record<string, unknown> {
  try {
    return getArgumentValues(fieldDef, node, ctx.variables);
  } catch {
    // Bad arguments surface as execution errors; for costing, treat them as absent.
    return {};
  }
}

function pageSizeOf(args: Record<string, unknown>): number {
  const size = typeof args.first === "number" ? args.first : typeof args.last === "number" ? args.last : 0;
  return Math.max(0, size);
}

function unwrapNonNull(type: GraphQLOutputType): GraphQLOutputType {
  return isNonNullType(type) ? type.ofType : type;
}

export function isConnectionType(type: GraphQLCompositeType): boolean {
  if (!isObjectType(type) || !type.name.endsWith("Connection")) return false;
  const fields = type.getFields();
  return "pageInfo" in fields && ("edges" in fields || "nodes" in fields);
}
