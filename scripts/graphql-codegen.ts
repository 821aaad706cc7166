/**
 * npm run graphql:codegen: types the app's Admin GraphQL documents (see .graphqlrc.ts) into app/types/, from the
 * Admin schema that @shopify/dev-mcp ships for the pinned version, without the network.
 * `--out DIR` writes the two files into DIR instead (the test that fails on stale types compares them).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { gunzipSync } from "node:zlib";
import { generate, type CodegenConfig } from "@graphql-codegen/cli";
import { ADMIN_API_VERSION_STRING } from "../app/api-version";
import { ADMIN_SCHEMA_FILE, ADMIN_TYPES_DIR, adminProject } from "../.graphqlrc";

const outIndex = process.argv.indexOf("--out");
const outputDir = outIndex >= 0 ? process.argv[outIndex + 1] : ADMIN_TYPES_DIR;
if (!outputDir) throw new Error("--out needs a directory");

const introspection = gunzipSync(readFileSync(`node_modules/@shopify/dev-mcp/dist/data/admin_${ADMIN_API_VERSION_STRING}.json.gz`));
mkdirSync(dirname(ADMIN_SCHEMA_FILE), { recursive: true });
writeFileSync(ADMIN_SCHEMA_FILE, introspection);

const project = adminProject(outputDir);
const codegen: Pick<CodegenConfig, "generates" | "pluckConfig"> = project.extensions?.codegen;
await generate({ schema: project.schema, documents: project.documents, ...codegen, silent: true, errorsOnly: true }, true);
console.log(`Admin API ${ADMIN_API_VERSION_STRING} types written to ${outputDir}`);
