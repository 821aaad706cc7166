/**
 * Issue 16: the environment is read in one place, app/lib/config.server.ts, where every variable is declared with
 * its type, default and documentation. Scripts, benches, tests and the stand-ins (separate programs) may read it.
 */
import { glob, readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";

/** process.env, process["env"], or `const { env } = process`. */
const READS_ENV = [/\bprocess\s*\.\s*env\b/, /\bprocess\s*\[\s*["'`]env["'`]\s*\]/, /\{[^}]*\benv\b[^}]*\}\s*=\s*process\b/];

async function sourcesReadingEnv(): Promise<string[]> {
  const readers: string[] = [];
  for await (const file of glob(["app/**/*.{ts,tsx}", "worker.ts"])) {
    const source = await readFile(file, "utf8");
    if (READS_ENV.some((pattern) => pattern.test(source))) readers.push(file);
  }
  return readers.sort();
}

describe("reading the environment", () => {
  it("happens in the config module only (app/ and the worker)", async () => {
    expect(await sourcesReadingEnv()).toEqual(["app/lib/config.server.ts"]);
  });
});
