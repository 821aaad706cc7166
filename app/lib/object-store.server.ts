/**
 * Where processed images live, out of PostgreSQL: a folder on one machine (the default, so `npm run demo` and
 * `npm test` need nothing new) or any S3-compatible store (AWS S3, Cloudflare R2, MinIO) once there are several.
 * The interface is the little the app needs; the S3 side is the AWS SDK, which speaks all of them.
 */
import { mkdir, readFile, rm, writeFile, rename } from "node:fs/promises";
import path from "node:path";
import { DeleteObjectsCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getConfig, type Config } from "./config.server";

export interface ObjectStore {
  readonly kind: "filesystem" | "s3";
  put(key: string, bytes: Buffer, contentType: string): Promise<void>;
  /** The object's bytes, or null when there is no such object. */
  get(key: string): Promise<Buffer | null>;
  /** Deletes what exists of these keys; missing ones are not an error. */
  delete(keys: string[]): Promise<void>;
}

/** Keys are paths made by the app (`processed/<shop>/<hash>`); anything else is refused rather than resolved. */
function assertSafeKey(key: string): void {
  if (!/^[a-z0-9][a-z0-9._-]*(\/[a-z0-9._-]+)*$/i.test(key) || key.split("/").includes("..")) {
    throw new Error(`object key ${JSON.stringify(key)} is not a plain relative path`);
  }
}

export function createFileSystemStore(root: string): ObjectStore {
  const file = (key: string) => {
    assertSafeKey(key);
    return path.join(root, key);
  };
  return {
    kind: "filesystem",
    async put(key, bytes) {
      const target = file(key);
      await mkdir(path.dirname(target), { recursive: true });
      // Written aside then renamed, so a reader never sees half an image.
      const partial = `${target}.${process.pid}.${Date.now()}.partial`;
      await writeFile(partial, bytes);
      await rename(partial, target);
    },
    async get(key) {
      try {
        return await readFile(file(key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw error;
      }
    },
    async delete(keys) {
      await Promise.all(keys.map((key) => rm(file(key), { force: true })));
    },
  };
}

export interface S3StoreOptions {
  bucket: string;
  region: string;
  /** For R2, MinIO or a local stand-in; AWS needs none. */
  endpoint?: string;
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export function createS3Store(opts: S3StoreOptions): ObjectStore {
  const client = new S3Client({
    region: opts.region,
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    forcePathStyle: opts.forcePathStyle ?? Boolean(opts.endpoint),
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
  });
  return {
    kind: "s3",
    async put(key, bytes, contentType) {
      assertSafeKey(key);
      await client.send(new PutObjectCommand({ Bucket: opts.bucket, Key: key, Body: bytes, ContentType: contentType }));
    },
    async get(key) {
      assertSafeKey(key);
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: opts.bucket, Key: key }));
        return response.Body ? Buffer.from(await response.Body.transformToByteArray()) : null;
      } catch (error) {
        if (error instanceof NoSuchKey || (error as { name?: string }).name === "NoSuchKey") return null;
        throw error;
      }
    },
    async delete(keys) {
      for (let i = 0; i < keys.length; i += 1000) {
        const chunk = keys.slice(i, i + 1000);
        chunk.forEach(assertSafeKey);
        await client.send(
          new DeleteObjectsCommand({ Bucket: opts.bucket, Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true } }),
        );
      }
    },
  };
}

/**
 * OBJECT_STORE=s3 with S3_BUCKET, S3_REGION (default us-east-1), S3_ENDPOINT and S3_FORCE_PATH_STYLE for R2 or MinIO,
 * credentials from the AWS SDK's usual chain (AWS_ACCESS_KEY_ID, …). Otherwise a folder: OBJECT_STORE_DIR
 * (default .data/objects under the working directory).
 */
export function objectStoreFromEnv(config: Config = getConfig()): ObjectStore {
  // The configuration already refused OBJECT_STORE=s3 without S3_BUCKET.
  if (config.OBJECT_STORE === "s3" && config.S3_BUCKET) {
    return createS3Store({
      bucket: config.S3_BUCKET,
      region: config.S3_REGION,
      ...(config.S3_ENDPOINT ? { endpoint: config.S3_ENDPOINT } : {}),
      ...(config.S3_FORCE_PATH_STYLE !== undefined ? { forcePathStyle: config.S3_FORCE_PATH_STYLE } : {}),
    });
  }
  return createFileSystemStore(path.resolve(config.OBJECT_STORE_DIR));
}

let shared: ObjectStore | null = null;
/** The process's object store, configured from the environment on first use. */
export function objectStore(): ObjectStore {
  return (shared ??= objectStoreFromEnv());
}
