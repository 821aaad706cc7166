// `scripts/ensure-install.sh` is what `npm test` and CI run first on a fresh clone: when `npm ci` fails, the reader
// must be sent after the right cause (a lock out of step with package.json, or this machine).
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const run = promisify(execFile);

let project: string;

async function projectWith(packageJson: object, lock: object): Promise<string> {
  project = await mkdtemp(path.join(tmpdir(), "ensure-install-"));
  await mkdir(path.join(project, "scripts"));
  for (const script of ["ensure-install.sh", "use-node.sh"]) {
    await cp(path.join(ROOT, "scripts", script), path.join(project, "scripts", script));
  }
  await writeFile(path.join(project, "package.json"), JSON.stringify(packageJson));
  await writeFile(path.join(project, "package-lock.json"), JSON.stringify(lock));
  return project;
}

async function ensureInstall(cwd: string): Promise<{ code: number; stderr: string }> {
  try {
    await run("bash", ["scripts/ensure-install.sh"], {
      cwd,
      // An empty cache and no retries: a tarball that cannot be fetched fails at once instead of after minutes.
      env: { ...process.env, npm_config_cache: path.join(cwd, ".npm-cache"), npm_config_fetch_retries: "0" },
    });
    return { code: 0, stderr: "" };
  } catch (error) {
    const failed = error as { code: number; stderr: string };
    return { code: failed.code, stderr: failed.stderr };
  }
}

afterEach(async () => {
  await rm(project, { recursive: true, force: true });
});

describe("ensure-install when npm ci fails", () => {
  it("says the lock is out of sync when package.json asks for what the lock lacks", async () => {
    const cwd = await projectWith(
      { name: "app", version: "1.0.0", dependencies: { "left-pad": "1.3.0" } },
      { name: "app", version: "1.0.0", lockfileVersion: 3, requires: true, packages: { "": { name: "app", version: "1.0.0" } } },
    );
    const { code, stderr } = await ensureInstall(cwd);
    expect(code).toBe(1);
    expect(stderr).toContain("out of sync with package.json");
  });

  it("blames this machine, not the lock, when the lock matches but a package cannot be fetched", async () => {
    const dependency = { version: "1.3.0", resolved: "http://127.0.0.1:9/left-pad-1.3.0.tgz", integrity: "sha512-AAAA" };
    const cwd = await projectWith(
      { name: "app", version: "1.0.0", dependencies: { "left-pad": "1.3.0" } },
      {
        name: "app",
        version: "1.0.0",
        lockfileVersion: 3,
        requires: true,
        packages: { "": { name: "app", version: "1.0.0", dependencies: { "left-pad": "1.3.0" } }, "node_modules/left-pad": dependency },
      },
    );
    const { code, stderr } = await ensureInstall(cwd);
    expect(code).toBe(1);
    expect(stderr).not.toContain("out of sync");
    expect(stderr).toContain("npm ci failed");
    expect(stderr).toContain("rm -rf node_modules");
  });
});
