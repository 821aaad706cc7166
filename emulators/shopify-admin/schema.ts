import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { buildClientSchema, type GraphQLSchema, type IntrospectionQuery } from "graphql";
import { ADMIN_API_VERSION_STRING } from "../../app/api-version";

/** The Admin API version the stand-in serves; the app pins the same one. */
export const EMULATED_API_VERSION = ADMIN_API_VERSION_STRING;

let cached: GraphQLSchema | undefined;

/**
 * Shopify's real Admin GraphQL schema for the pinned version, built from the introspection that
 * ships with @shopify/dev-mcp. Building it takes a few hundred ms, so it is built once per process
 * and shared by every stand-in and test that asks.
 */
export function loadAdminSchema(): GraphQLSchema {
  if (cached) return cached;
  const file = fileURLToPath(
    new URL(`../../node_modules/@shopify/dev-mcp/dist/data/admin_${EMULATED_API_VERSION}.json.gz`, import.meta.url),
  );
  const introspection = JSON.parse(gunzipSync(readFileSync(file)).toString("utf8")) as {
    data?: IntrospectionQuery;
  } & Partial<IntrospectionQuery>;
  cached = buildClientSchema(introspection.data ?? (introspection as IntrospectionQuery));
  return cached;
}
