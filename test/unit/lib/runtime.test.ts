import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

describe("runtime", () => {
  it("runs on Node.js 24 LTS, as package.json's engines and .nvmrc say", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { engines: { node: string } };
    expect(process.versions.node.split(".")[0]).toBe("24");
    expect(pkg.engines.node).toMatch(/^>=24\b/);
    expect(readFileSync(".nvmrc", "utf8").trim()).toBe("24");
  });
});
