// Creates (if needed) and migrates the test database once per vitest run.
// scripts/test.sh drops it first so every `npm test` starts from the migrations.
import pg from "pg";
import { migrate } from "../../scripts/migrate";
import { TEST_DATABASE_NAME, testDatabaseUrl } from "./urls";

export default async function setup(): Promise<void> {
  const admin = new pg.Client({ connectionString: testDatabaseUrl("postgres") });
  await admin.connect();
  try {
    const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [TEST_DATABASE_NAME]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${TEST_DATABASE_NAME}"`);
  } finally {
    await admin.end();
  }
  await migrate(testDatabaseUrl(), () => undefined);
}
