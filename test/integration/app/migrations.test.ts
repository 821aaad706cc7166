import { randomUUID } from "node:crypto";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { testDatabaseUrl } from "../../setup/urls";

const run = promisify(execFile);
const scratch = `imgapp_migrate_${randomUUID().slice(0, 8)}`;
const fresh = `imgapp_migrate_new_${randomUUID().slice(0, 8)}`;
const admin = () => new pg.Client({ connectionString: testDatabaseUrl("postgres") });

afterAll(async () => {
  const client = admin();
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS "${scratch}" WITH (FORCE)`);
  await client.query(`DROP DATABASE IF EXISTS "${fresh}" WITH (FORCE)`);
  await client.end();
});

describe("npm run db:migrate", () => {
  it("applies every migration once and is a no-op the second time", async () => {
    const client = admin();
    await client.connect();
    await client.query(`CREATE DATABASE "${scratch}"`);
    await client.end();

    const env = { ...process.env, DATABASE_URL: testDatabaseUrl(scratch) };
    const first = await run("npm", ["run", "--silent", "db:migrate"], { env });
    expect(first.stdout).toMatch(/applied \d+_init/);

    const second = await run("npm", ["run", "--silent", "db:migrate"], { env });
    expect(second.stdout.trim()).toBe("database is up to date");

    const db = new pg.Client({ connectionString: testDatabaseUrl(scratch) });
    await db.connect();
    const tables = await db.query(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name IN ('Session','Shop','CreditEntry','BatchItem')`,
    );
    const applied = await db.query(`SELECT count(*)::int AS n FROM "_app_migrations"`);
    await db.end();
    expect(tables.rows[0].n).toBe(4);
    expect(applied.rows[0].n).toBeGreaterThan(0);
  });

  it("creates the database DATABASE_URL names when it does not exist yet (a first setup)", async () => {
    const env = { ...process.env, DATABASE_URL: testDatabaseUrl(fresh) };
    const { stdout } = await run("npm", ["run", "--silent", "db:migrate"], { env });
    expect(stdout).toContain("creating the database DATABASE_URL names");

    const db = new pg.Client({ connectionString: testDatabaseUrl(fresh) });
    await db.connect();
    const applied = await db.query(`SELECT count(*)::int AS n FROM "_app_migrations"`);
    await db.end();
    expect(applied.rows[0].n).toBeGreaterThan(0);
    const again = await run("npm", ["run", "--silent", "db:migrate"], { env });
    expect(again.stdout.trim()).toBe("database is up to date");
  });
});
