import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { Kind, NoUnusedFragmentsRule, parse, specifiedRules, validate, type DocumentNode } from "graphql";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { loadAdminSchema } from "../../emulators/shopify-admin/schema";

/**
 * Every Admin GraphQL document the app and its admin extensions send (template literals starting with `#graphql` in
 * app/ and extensions/), checked against Shopify's real schema for the pinned API version, so a typo or a field that
 * does not exist in 2026-07 fails here instead of in a merchant's store.
 */

/** Documents present when this test was written; the count may only grow. */
const MINIMUM_DOCUMENTS = 10;

const ROOT = join(import.meta.dirname, "..", "..");
/** Where documents live: the app, and the admin extensions (which query the Admin API from the admin itself). */
const SOURCE_DIRS = [join(ROOT, "app"), join(ROOT, "extensions")];

interface FoundDocument {
  file: string;
  line: number;
  source: string;
  /** Why the text could not be assembled (an interpolation this test cannot resolve). */
  unresolved?: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" || entry.name === "dist" ? [] : sourceFiles(path);
    return /\.(ts|tsx)$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

function isGraphqlTemplate(node: ts.Node): node is ts.NoSubstitutionTemplateLiteral | ts.TemplateExpression {
  if (ts.isNoSubstitutionTemplateLiteral(node)) return node.text.trimStart().startsWith("#graphql");
  if (ts.isTemplateExpression(node)) return node.head.text.trimStart().startsWith("#graphql");
  return false;
}

/** The template a constant holds, also through `as const` (a document that interpolates a fragment, so its type is its text). */
function templateOf(initializer: ts.Expression | undefined) {
  const expression = initializer && ts.isAsExpression(initializer) ? initializer.expression : initializer;
  return expression && isGraphqlTemplate(expression) ? expression : undefined;
}

/** Finds `#graphql` templates and assembles `${FRAGMENT}` interpolations from `const FRAGMENT = \`#graphql ...\``. */
function collectDocuments(): FoundDocument[] {
  const files = SOURCE_DIRS.flatMap(sourceFiles).map((path) => ({
    path,
    sf: ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.Latest, true),
  }));
  const constants = new Map<string, Map<string, ts.NoSubstitutionTemplateLiteral | ts.TemplateExpression>>();
  const globalConstants = new Map<string, ts.NoSubstitutionTemplateLiteral | ts.TemplateExpression>();
  const templates: Array<{ path: string; sf: ts.SourceFile; node: ts.NoSubstitutionTemplateLiteral | ts.TemplateExpression }> = [];
  for (const { path, sf } of files) {
    const local = new Map<string, ts.NoSubstitutionTemplateLiteral | ts.TemplateExpression>();
    constants.set(path, local);
    const visit = (node: ts.Node) => {
      const template = ts.isVariableDeclaration(node) ? templateOf(node.initializer) : undefined;
      if (template && ts.isVariableDeclaration(node) && ts.isIdentifier(node.name)) {
        local.set(node.name.text, template);
        globalConstants.set(node.name.text, template);
      }
      if (isGraphqlTemplate(node)) templates.push({ path, sf, node });
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }

  const assemble = (path: string, node: ts.NoSubstitutionTemplateLiteral | ts.TemplateExpression, depth = 0): string => {
    if (ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
    let text = node.head.text;
    for (const span of node.templateSpans) {
      const name = ts.isIdentifier(span.expression) ? span.expression.text : null;
      const target = name ? (constants.get(path)?.get(name) ?? globalConstants.get(name)) : undefined;
      if (!target || depth > 10) throw new Error(`cannot resolve \${${span.expression.getText()}}`);
      text += assemble(path, target, depth + 1) + span.literal.text;
    }
    return text;
  };

  return templates.map(({ path, sf, node }) => {
    const file = relative(ROOT, path);
    const line = sf.getLineAndCharacterOfPosition(node.getStart()).line + 1;
    try {
      return { file, line, source: assemble(path, node) };
    } catch (error) {
      return { file, line, source: "", unresolved: (error as Error).message };
    }
  });
}

function operationsOf(document: DocumentNode) {
  return document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
}

function describeDocument(doc: FoundDocument, document?: DocumentNode): string {
  const names = document ? operationsOf(document).map((op) => `${op.operation} ${op.name?.value ?? "(anonymous)"}`) : [];
  const fragments = document
    ? document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => `fragment ${f.name.value}`)
    : [];
  return `${doc.file}:${doc.line} ${[...names, ...(names.length ? [] : fragments)].join(", ") || "(unparsed)"}`;
}

const documents = collectDocuments();

describe("GraphQL documents in app/ and extensions/", () => {
  it("finds the app's and the extensions' Admin GraphQL documents", () => {
    const listing = documents.map((doc) => {
      try {
        return describeDocument(doc, parse(doc.source));
      } catch {
        return describeDocument(doc);
      }
    });
    console.log(`GraphQL documents found in app/ and extensions/ (${documents.length}):\n  ${listing.join("\n  ")}`);
    expect(documents.length).toBeGreaterThan(0);
    expect(documents.length).toBeGreaterThanOrEqual(MINIMUM_DOCUMENTS);
    expect(
      documents.some((doc) => doc.file.startsWith("extensions/")),
      "the admin action extension's document",
    ).toBe(true);
  });

  it("validates every document against the pinned Admin API schema", () => {
    const schema = loadAdminSchema();
    const failures: string[] = [];
    for (const doc of documents) {
      if (doc.unresolved) {
        failures.push(`${doc.file}:${doc.line}: ${doc.unresolved}`);
        continue;
      }
      let document: DocumentNode;
      try {
        document = parse(doc.source);
      } catch (error) {
        failures.push(`${doc.file}:${doc.line}: syntax error: ${(error as Error).message}`);
        continue;
      }
      // A fragment-only document is interpolated into operations (validated there); alone it is "unused".
      const rules = operationsOf(document).length ? specifiedRules : specifiedRules.filter((rule) => rule !== NoUnusedFragmentsRule);
      for (const error of validate(schema, document, rules)) failures.push(`${describeDocument(doc, document)}: ${error.message}`);
    }
    expect(failures, `invalid GraphQL documents:\n${failures.join("\n")}`).toEqual([]);
  });

  it("names every operation, each name used once", () => {
    const seen = new Map<string, string>();
    const problems: string[] = [];
    for (const doc of documents) {
      if (doc.unresolved) continue;
      let document: DocumentNode;
      try {
        document = parse(doc.source);
      } catch {
        continue; // reported by the validation test
      }
      for (const op of operationsOf(document)) {
        const where = `${doc.file}:${doc.line}`;
        const name = op.name?.value;
        if (!name) {
          problems.push(`${where}: anonymous ${op.operation}`);
          continue;
        }
        const first = seen.get(name);
        if (first) problems.push(`${where}: operation name ${name} is also used at ${first}`);
        else seen.set(name, where);
      }
    }
    expect(problems, problems.join("\n")).toEqual([]);
  });
});
