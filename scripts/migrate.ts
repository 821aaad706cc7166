/**
 * Applies prisma/migrations/<folder>/migration.sql in name order, each in its own transaction,
 * and records applied folders in "_app_migrations". Safe to run on every start: applied folders
 * are skipped, and an advisory lock keeps two starting processes from racing.
 * (`prisma migrate deploy` cannot run offline against PostgreSQL; see docs/ARCHITECTURE.md.)
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "prisma", "migrations");
const LOCK_ID = 727_001;

export async function migrate(connectionString: string, log: (line: string) => void = console.log): Promise<string[]> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  const applied: string[] = [];
  try {
    await client.query("SELECT pg_advisory_lock($1)", [LOCK_ID]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS "_app_migrations" (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = new Set((await client.query<{ name: string }>(`SELECT name FROM "_app_migrations"`)).rows.map((r) => r.name));
    const folders = (await readdir(MIGRATIONS_DIR, { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    for (const name of folders) {
      if (done.has(name)) continue;
      const sql = await readFile(path.join(MIGRATIONS_DIR, name, "migration.sql"), "utf8");
      await client.query("BEGIN");
      try {
        await client.query(sql);
        await client.query(`INSERT INTO "_app_migrations" (name) VALUES ($1)`, [name]);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw new Error(`Migration ${name} failed: ${(error as Error).message}`);
      }
      applied.push(name);
      log(`applied ${name}`);
    }
    if (applied.length === 0) log("database is up to date");
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [LOCK_ID]).catch(() => undefined);
    await client.end();
  }
  return applied;
}

/** Creates the database the URL names when it does not exist yet, then applies pending migrations. */
export async function ensureMigratedDatabase(connectionString: string): Promise<void> {
  const url = new URL(connectionString);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = "/postgres";
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await admin.end();
  }
  await migrate(connectionString, () => undefined);
}

/** PostgreSQL's "database does not exist". */
const NO_SUCH_DATABASE = "3D000";

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const url = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/imgapp";
  // A first run on a new machine creates the database; a managed one that exists is only migrated (its user may not
  // be allowed to create databases or to connect to "postgres").
  migrate(url)
    .catch((error: Error & { code?: string }) => {
      if (error.code !== NO_SUCH_DATABASE) throw error;
      console.log("creating the database DATABASE_URL names");
      return ensureMigratedDatabase(url);
    })
    .catch((error: Error) => {
      console.error(error.message);
      process.exit(1);
    });
}
