/**
 * Issue 16: no import cycles between files, and layering that reads top-down (routes -> queue -> models -> qwen ->
 * imaging -> lib; components beside routes, i18n below them). None points up.
 */
import madge from "madge";
import { describe, expect, it } from "vitest";

const LAYERS = ["routes", "components", "i18n", "queue", "models", "qwen", "imaging", "lib"];

function layerOf(file: string): number {
  const folder = /^app\/([^/]+)\//.exec(file)?.[1];
  return folder ? LAYERS.indexOf(folder) : -1;
}

describe("the app's imports", () => {
  it("have no cycles, and point down the layers", async () => {
    const graph = await madge(["app", "worker.ts"], { fileExtensions: ["ts", "tsx"], tsConfig: "tsconfig.json" });
    expect(graph.circular()).toEqual([]);
    const upward: string[] = [];
    for (const [file, imports] of Object.entries(graph.obj())) {
      for (const imported of imports) {
        const from = layerOf(file);
        const to = layerOf(imported);
        if (from >= 0 && to >= 0 && to < from) upward.push(`${file} -> ${imported}`);
      }
    }
    expect(upward.sort()).toEqual([]);
  }, 60_000);
});
