/**
 * npm run db:diff -- <name>
 * Writes prisma/migrations/<timestamp>_<name>/migration.sql with the SQL that takes the schema of the last migration
 * (prisma/migrations/schema.snapshot.prisma) to prisma/schema.prisma, then updates the snapshot.
 * (`prisma migrate dev` cannot run offline against PostgreSQL; `migrate diff` between two datamodels can.)
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

const name = (process.argv[2] ?? "").replace(/[^a-z0-9_]/gi, "_").toLowerCase();
if (!name) {
  console.error("usage: npm run db:diff -- <migration_name>");
  process.exit(1);
}
const snapshot = path.join("prisma", "migrations", "schema.snapshot.prisma");
const schema = path.join("prisma", "schema.prisma");
const sql = execFileSync(
  "npx",
  ["prisma", "migrate", "diff", "--from-schema-datamodel", snapshot, "--to-schema-datamodel", schema, "--script"],
  { encoding: "utf8", env: { ...process.env, PRISMA_QUERY_ENGINE_LIBRARY: "prisma/no-query-engine.placeholder" } },
);
if (!sql.trim() || /^-- This is an empty migration/m.test(sql)) {
  console.log("schema.prisma matches the last migration: nothing to write");
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
const folder = path.join("prisma", "migrations", `${stamp}_${name}`);
mkdirSync(folder, { recursive: true });
writeFileSync(path.join(folder, "migration.sql"), sql);
copyFileSync(schema, snapshot);
console.log(`wrote ${folder}/migration.sql — review it, then npm run db:migrate`);
