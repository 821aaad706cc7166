export const TEST_DATABASE_NAME = process.env.TEST_DATABASE_NAME ?? "imgapp_test";
const PG_BASE = process.env.TEST_PG_BASE ?? "postgresql://postgres@127.0.0.1:5432";

export function testDatabaseUrl(name = TEST_DATABASE_NAME): string {
  return `${PG_BASE}/${name}`;
}

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
