// The object store's contract, on both kinds: a folder, and an S3-compatible server (s3rver, speaking S3's API
// to the AWS SDK exactly as AWS S3, R2 or MinIO would).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEnv } from "~/lib/config.server";
import { createFileSystemStore, createS3Store, objectStoreFromEnv, type ObjectStore } from "~/lib/object-store.server";

let dir: string;
let s3: S3rver;
const stores: Record<string, ObjectStore> = {};

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "objects-"));
  stores.filesystem = createFileSystemStore(path.join(dir, "fs"));
  s3 = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory: path.join(dir, "s3"),
    configureBuckets: [{ name: "processed-images" }],
  });
  const { port } = await s3.run();
  stores.s3 = createS3Store({
    bucket: "processed-images",
    region: "us-east-1",
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  });
});

afterAll(async () => {
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

describe.each(["filesystem", "s3"])("object store (%s)", (kind) => {
  const store = () => stores[kind]!;

  it("gives back exactly the bytes it was given, and null for a key it never had", async () => {
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256));
    await store().put("processed/shop-a.myshopify.com/abc123", bytes, "image/png");
    expect(Buffer.compare((await store().get("processed/shop-a.myshopify.com/abc123"))!, bytes)).toBe(0);
    expect(await store().get("processed/shop-a.myshopify.com/missing")).toBeNull();
  });

  it("replaces an object put again under the same key", async () => {
    await store().put("processed/shop-b.myshopify.com/k", Buffer.from("first"), "image/jpeg");
    await store().put("processed/shop-b.myshopify.com/k", Buffer.from("second"), "image/jpeg");
    expect((await store().get("processed/shop-b.myshopify.com/k"))!.toString()).toBe("second");
  });

  it("deletes what exists of the keys it is given", async () => {
    await store().put("processed/shop-c.myshopify.com/one", Buffer.from("1"), "image/png");
    await store().delete(["processed/shop-c.myshopify.com/one", "processed/shop-c.myshopify.com/never"]);
    expect(await store().get("processed/shop-c.myshopify.com/one")).toBeNull();
  });

  it("refuses keys that are not plain relative paths", async () => {
    await expect(store().put("../outside", Buffer.from("x"), "image/png")).rejects.toThrow(/plain relative path/);
    await expect(store().get("/etc/passwd")).rejects.toThrow(/plain relative path/);
  });
});

describe("object store configuration", () => {
  it("is a folder by default and S3 when asked, and says what is missing", () => {
    expect(objectStoreFromEnv(parseEnv({})).kind).toBe("filesystem");
    expect(objectStoreFromEnv(parseEnv({ OBJECT_STORE: "s3", S3_BUCKET: "b", S3_ENDPOINT: "http://127.0.0.1:9000" })).kind).toBe("s3");
    expect(() => objectStoreFromEnv(parseEnv({ OBJECT_STORE: "s3" }))).toThrow(/S3_BUCKET/);
    expect(() => objectStoreFromEnv(parseEnv({ OBJECT_STORE: "gcs" }))).toThrow(/"filesystem" or "s3"/);
  });
});
