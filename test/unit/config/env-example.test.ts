import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { renderEnvExample } from "~/lib/config.server";

describe(".env.example", () => {
  it("is what the config module's declarations render (run `npm run env:example` after changing them)", async () => {
    expect(await readFile(".env.example", "utf8")).toBe(renderEnvExample());
  });
});
