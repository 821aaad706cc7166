import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The Admin API types in app/types/ are what `npm run graphql:codegen` makes from the `#graphql` documents as they are
 * now: a document added or changed without regenerating fails here, so call sites never run on stale result types.
 */

const ROOT = join(import.meta.dirname, "..", "..");
const GENERATED = ["admin.types.d.ts", "admin.generated.d.ts"];

describe("generated Admin API types", () => {
  it("are what the codegen makes from the current documents", () => {
    const dir = mkdtempSync(join(tmpdir(), "admin-types-"));
    try {
      execFileSync(process.execPath, ["--import", "tsx", "scripts/graphql-codegen.ts", "--out", dir], { cwd: ROOT, stdio: "pipe" });
      const stale = GENERATED.filter(
        (file) => readFileSync(join(dir, file), "utf8") !== readFileSync(join(ROOT, "app", "types", file), "utf8"),
      );
      expect(stale, `stale generated types in app/types/: run npm run graphql:codegen and commit the result`).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
