// `npm run demo -- --real-photos`, run as a merchant would run it (its own process, its worker child), on a few
// corpus photos against the test database and Redis.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_DATABASE_NAME } from "../../setup/urls";

const ROOT = path.resolve(import.meta.dirname, "../../..");

function runDemo(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/demo.ts", ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        DEMO_DATABASE_NAME: TEST_DATABASE_NAME,
        DEMO_PG_BASE: process.env.TEST_PG_BASE ?? "postgresql://postgres@127.0.0.1:5432",
        LOG_LEVEL: "warn",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

let outputDir: string;
beforeAll(async () => {
  outputDir = await mkdtemp(path.join(tmpdir(), "demo-real-photos-"));
});
afterAll(async () => {
  await rm(outputDir, { recursive: true, force: true });
});

describe("npm run demo -- --real-photos", () => {
  it("uploads corpus photos into the store, edits them end to end and writes the contact sheet and the figures", async () => {
    const { code, stdout, stderr } = await runDemo(["--real-photos", "--limit", "3"], { DEMO_OUTPUT_DIR: outputDir });
    expect(code, `demo exited ${code}:\n${stderr}\n${stdout.slice(-3000)}`).toBe(0);

    const results = JSON.parse(await readFile(path.join(outputDir, "results.json"), "utf8")) as {
      source: string;
      summary: { images: number; published: number; held: number; failed: number; heldCorpusMaskFlawed: number };
      rows: Array<{ product: string; result: string }>;
      problems: string[];
      dashscope: { realPhotoEdits: number };
    };
    // One photo from each of the first categories, each a product of its own, all edited from their corpus masks.
    expect(results.source).toBe("real-photos");
    expect(results.rows.map((r) => r.product).sort()).toEqual(["Dress 1", "Hat 1", "Longsleeve 1"]);
    expect(results.dashscope.realPhotoEdits).toBe(3);
    expect(results.problems).toEqual([]);
    expect(results.summary.images).toBe(3);
    expect(results.summary.published + results.summary.held).toBe(3);
    expect(stdout).toContain(`real photos: ${results.summary.published} of 3 published without review`);
    // Longsleeve 1's corpus mask cuts through a sleeve (bench/lib/corpus-mask-flaws.ts): if it is held, that is why.
    const flawedHeld = results.rows.filter((r) => r.product === "Longsleeve 1" && r.result === "held for review").length;
    expect(results.summary.heldCorpusMaskFlawed).toBe(flawedHeld);
    expect(stdout).toContain(`of the held, ${flawedHeld} photos whose corpus mask does not match the product`);

    // Before and after side by side, two pairs a row: two rows for three images.
    const sheet = await sharp(path.join(outputDir, "contact-sheet.png")).metadata();
    expect([sheet.width, sheet.height]).toEqual([880, 36 + 2 * (220 + 34)]);
  }, 420_000);

  it("stops before doing anything with what to set when the corpus is not there", async () => {
    const missing = path.join(outputDir, "no-corpus-here");
    const { code, stderr } = await runDemo(["--real-photos"], { REAL_PHOTO_CORPUS: missing });
    expect(code).toBe(2);
    expect(stderr).toContain(`The real-photo corpus is not at ${missing}`);
    expect(stderr).toContain("REAL_PHOTO_CORPUS");
  }, 60_000);
});
