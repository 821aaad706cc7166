// Creates (if needed) and migrates the test database once per vitest run.
// scripts/test.sh drops it first so every `npm test` starts from the migrations.
import { ensureMigratedDatabase } from "../../scripts/migrate";
import { testDatabaseUrl } from "./urls";

export default async function setup(): Promise<void> {
  await ensureMigratedDatabase(testDatabaseUrl());
}
