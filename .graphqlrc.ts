/**
 * GraphQL config for the Admin API (editors and `npm run graphql:codegen`), as in Shopify's app template: the
 * `#graphql` documents in app/ and the admin extensions are typed by @shopify/api-codegen-preset into
 * app/types/admin.types.d.ts and admin.generated.d.ts. The schema is Shopify's introspection for the pinned version as
 * @shopify/dev-mcp ships it (the one the Shopify stand-in serves), unpacked by scripts/graphql-codegen.ts: the
 * preset's default would download it from shopify.dev, which tests and CI cannot reach.
 */
import { ApiType, shopifyApiProject } from "@shopify/api-codegen-preset";
import { ADMIN_API_VERSION_STRING } from "./app/api-version";

export const ADMIN_SCHEMA_FILE = `./node_modules/.cache/graphql-codegen/admin-${ADMIN_API_VERSION_STRING}.schema.json`;
export const ADMIN_TYPES_DIR = "./app/types";
const DOCUMENTS = ["./app/**/*.{js,ts,jsx,tsx}", "./extensions/*/src/**/*.{js,ts,jsx,tsx}", `!${ADMIN_TYPES_DIR}/**`];

interface OutputConfig {
  schema?: unknown;
  plugins?: string[];
  config?: Record<string, unknown>;
}

type GraphqlProject = ReturnType<typeof shopifyApiProject>;

/** The preset's Admin project, writing into `outputDir`, read from the local schema. */
export function adminProject(outputDir = ADMIN_TYPES_DIR): GraphqlProject {
  const project = shopifyApiProject({ apiType: ApiType.Admin, apiVersion: ADMIN_API_VERSION_STRING, documents: DOCUMENTS, outputDir });
  const codegen = project.extensions?.codegen as { pluckConfig: unknown; generates: Record<string, OutputConfig> };
  const generates = Object.fromEntries(
    Object.entries(codegen.generates)
      // The preset adds a download of the schema when outputDir holds no copy: the local file replaces it.
      .filter(([, output]) => !output.plugins?.includes("introspection"))
      .map(([file, output]) => [
        file,
        {
          ...output,
          schema: ADMIN_SCHEMA_FILE,
          // Enums as string unions: a .d.ts holds no enum values to compare with, but a union compares with "READY".
          ...(output.plugins?.includes("typescript") ? { config: { ...output.config, enumsAsTypes: true } } : {}),
        },
      ]),
  );
  return { ...project, schema: ADMIN_SCHEMA_FILE, extensions: { codegen: { ...codegen, generates } } };
}

export default { projects: { default: adminProject() } };
