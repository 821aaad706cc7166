import sharp, { type Metadata } from "sharp";
import {
  randomHex,
  type BlobRecord,
  type EmulatorStore,
  type FileErrorRecord,
  type FileRecord,
  type ProductRecord,
  type ShopState,
} from "./store";
import { Timers } from "./timers";

const MAX_SOURCE_BYTES = 20 * 1024 * 1024;
const SOURCE_FETCH_TIMEOUT_MS = 15_000;
const STAGED_RESOURCES = new Set(["IMAGE", "FILE", "PRODUCT_IMAGE", "COLLECTION_IMAGE", "SHOP_IMAGE"]);
const IMAGE_EXTENSIONS: Record<string, string> = {
  jpeg: "jpg",
  png: "png",
  webp: "webp",
  gif: "gif",
  avif: "avif",
  heif: "heic",
  tiff: "tif",
};

export interface UserErrorOut {
  field: string[] | null;
  message: string;
  code?: string | null;
}

export interface StagedTargetOut {
  url: string;
  resourceUrl: string;
  parameters: Array<{ name: string; value: string }>;
}

class SourceError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Shopify Files as the app sees them: staged upload targets (and the upload endpoint behind them),
 * fileCreate / fileUpdate with asynchronous processing (UPLOADED -> PROCESSING -> READY | FAILED),
 * and fileAcknowledgeUpdateFailed.
 */
export class FileService {
  private readonly timers = new Timers();

  constructor(
    private readonly store: EmulatorStore,
    private readonly readyDelayMs: number,
    /** Called when a replacement of a file's content is live (Shopify then sends products/update for a product's media). */
    private readonly onReplaced: (shop: ShopState, file: FileRecord) => void = () => undefined,
  ) {}

  close(): void {
    this.timers.clear();
  }

  stagedUploadsCreate(
    shop: ShopState,
    inputs: Array<{ resource: string; filename: string; mimeType: string; httpMethod?: string | null; fileSize?: string | number | null }>,
  ): { stagedTargets: StagedTargetOut[] | null; userErrors: UserErrorOut[] } {
    const userErrors: UserErrorOut[] = [];
    inputs.forEach((input, i) => {
      if (!STAGED_RESOURCES.has(input.resource))
        userErrors.push({
          field: ["input", String(i), "resource"],
          message: `The Shopify stand-in does not stage ${input.resource} uploads`,
        });
      if (!input.filename?.trim()) userErrors.push({ field: ["input", String(i), "filename"], message: "Filename can't be blank" });
      if (!input.mimeType?.trim()) userErrors.push({ field: ["input", String(i), "mimeType"], message: "Mime type can't be blank" });
      if (input.fileSize != null && !(Number(input.fileSize) >= 0))
        userErrors.push({ field: ["input", String(i), "fileSize"], message: "File size is invalid" });
    });
    if (userErrors.length) return { stagedTargets: null, userErrors };
    const stagedTargets = inputs.map((input) => {
      const token = randomHex(16);
      const httpMethod = input.httpMethod === "POST" ? "POST" : "PUT";
      const key = `tmp/${shop.numericId}/files/${token}/${input.filename}`;
      this.store.staged.set(token, {
        token,
        shop: shop.domain,
        resource: input.resource,
        filename: input.filename,
        mimeType: input.mimeType,
        httpMethod,
        fileSize: input.fileSize != null ? Number(input.fileSize) : null,
        key,
        bytes: null,
      });
      const resourceUrl = `${this.store.baseUrl}/staged-uploads/${token}/${encodeURIComponent(input.filename)}`;
      const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
      const signature = randomHex(32);
      if (httpMethod === "POST") {
        return {
          url: `${this.store.baseUrl}/staged-uploads/${token}`,
          resourceUrl,
          parameters: [
            { name: "Content-Type", value: input.mimeType },
            { name: "success_action_status", value: "201" },
            { name: "acl", value: "private" },
            { name: "key", value: key },
            { name: "x-goog-date", value: date },
            {
              name: "x-goog-credential",
              value: `merchant-assets@shopify-tiers.iam.gserviceaccount.com/${date.slice(0, 8)}/auto/storage/goog4_request`,
            },
            { name: "x-goog-algorithm", value: "GOOG4-RSA-SHA256" },
            { name: "x-goog-signature", value: signature },
            {
              name: "policy",
              value: Buffer.from(
                JSON.stringify({ conditions: [{ key }], expiration: new Date(Date.now() + 86_400_000).toISOString() }),
              ).toString("base64"),
            },
          ],
        };
      }
      return {
        url: `${resourceUrl}?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Date=${date}&X-Goog-Expires=86400&X-Goog-SignedHeaders=content-type%3Bhost&X-Goog-Signature=${signature}`,
        resourceUrl,
        parameters: [
          { name: "content_type", value: input.mimeType },
          { name: "acl", value: "private" },
        ],
      };
    });
    return { stagedTargets, userErrors: [] };
  }

  fileCreate(
    shop: ShopState,
    inputs: Array<{ originalSource: string; contentType?: string | null; alt?: string | null; filename?: string | null }>,
  ): { files: FileRecord[] | null; userErrors: UserErrorOut[] } {
    const userErrors: UserErrorOut[] = [];
    inputs.forEach((input, i) => {
      if (!isHttpUrl(input.originalSource)) {
        userErrors.push({
          field: ["files", String(i), "originalSource"],
          message: "Image URL is invalid",
          code: "INVALID_IMAGE_SOURCE_URL",
        });
      }
      if (input.contentType && input.contentType !== "IMAGE" && input.contentType !== "FILE") {
        userErrors.push({
          field: ["files", String(i), "contentType"],
          message: `The Shopify stand-in does not create ${input.contentType} files`,
          code: "INVALID",
        });
      }
      if (input.alt && input.alt.length > 512) {
        userErrors.push({
          field: ["files", String(i), "alt"],
          message: "The alt value exceeds the maximum limit of 512 characters.",
          code: "ALT_VALUE_LIMIT_EXCEEDED",
        });
      }
      const wanted = extensionOf(input.filename);
      const source = isHttpUrl(input.originalSource) ? extensionOf(filenameFromUrl(input.originalSource)) : null;
      if (wanted && source && wanted !== source) {
        userErrors.push({
          field: ["files", String(i), "filename"],
          message: `Cannot create file with custom filename which does not match original source extension (.${source}).`,
          code: "MISMATCHED_FILENAME_AND_ORIGINAL_SOURCE",
        });
      }
    });
    if (userErrors.length) return { files: null, userErrors };
    const files = inputs.map((input) => {
      const filename = input.filename || filenameFromUrl(input.originalSource);
      const typename = (input.contentType ?? (looksLikeImage(filename) ? "IMAGE" : "FILE")) === "IMAGE" ? "MediaImage" : "GenericFile";
      const file = this.store.createFileRecord(shop, {
        typename,
        alt: input.alt ?? (typename === "MediaImage" ? "" : null),
        status: "UPLOADED",
        blob: null,
        filename,
        productId: null,
        createdByApp: true,
      });
      this.process(shop, file, input.originalSource, { isUpdate: false, forcedFailure: null });
      return file;
    });
    return { files, userErrors: [] };
  }

  /**
   * Media added to a product (productCreate's `media`): MediaImages that belong to the product, appended in order,
   * each processed from its originalSource (a staged upload or any URL) like a created file.
   */
  createProductMedia(
    shop: ShopState,
    product: ProductRecord,
    inputs: Array<{ originalSource: string; mediaContentType: string; alt?: string | null }>,
  ): { media: FileRecord[] | null; userErrors: UserErrorOut[] } {
    const userErrors: UserErrorOut[] = [];
    inputs.forEach((input, i) => {
      if (input.mediaContentType !== "IMAGE") {
        userErrors.push({
          field: ["media", String(i), "mediaContentType"],
          message: `The Shopify stand-in does not create ${input.mediaContentType} media`,
          code: "INVALID",
        });
      }
      if (!isHttpUrl(input.originalSource)) {
        userErrors.push({ field: ["media", String(i), "originalSource"], message: "Image URL is invalid", code: "INVALID" });
      }
      if (input.alt && input.alt.length > 512) {
        userErrors.push({
          field: ["media", String(i), "alt"],
          message: "The alt value exceeds the maximum limit of 512 characters.",
          code: "ALT_VALUE_LIMIT_EXCEEDED",
        });
      }
    });
    if (userErrors.length) return { media: null, userErrors };
    const media = inputs.map((input) => {
      const file = this.store.createFileRecord(shop, {
        typename: "MediaImage",
        alt: input.alt ?? "",
        status: "UPLOADED",
        blob: null,
        filename: filenameFromUrl(input.originalSource),
        productId: product.id,
        createdByApp: false,
      });
      file.processingForReads = shop.nextProductMediaProcessingReads;
      product.mediaIds.push(file.id);
      this.process(shop, file, input.originalSource, { isUpdate: false, forcedFailure: null });
      return file;
    });
    shop.nextProductMediaProcessingReads = 0;
    product.updatedAt = new Date();
    return { media, userErrors: [] };
  }

  fileUpdate(
    shop: ShopState,
    inputs: Array<{ id: string; originalSource?: string | null; alt?: string | null; filename?: string | null }>,
  ): { files: FileRecord[] | null; userErrors: UserErrorOut[] } {
    const userErrors: UserErrorOut[] = [];
    const targets: FileRecord[] = [];
    inputs.forEach((input, i) => {
      const file = shop.files.get(input.id);
      if (!file) {
        userErrors.push({ field: ["files", String(i), "id"], message: `File id ${input.id} does not exist.`, code: "FILE_DOES_NOT_EXIST" });
        return;
      }
      if (file.status === "FAILED") {
        userErrors.push({
          field: ["files", String(i), "id"],
          message: "The file's last update failed; acknowledge it with fileAcknowledgeUpdateFailed before updating it again.",
          code: "INVALID_FAILED_MEDIA_STATE",
        });
      } else if (file.status !== "READY") {
        userErrors.push({ field: ["files", String(i), "id"], message: "Non-ready files cannot be updated.", code: "NON_READY_STATE" });
      }
      if (input.originalSource != null && !isHttpUrl(input.originalSource)) {
        userErrors.push({
          field: ["files", String(i), "originalSource"],
          message: "Image URL is invalid",
          code: "INVALID_IMAGE_SOURCE_URL",
        });
      }
      if (input.alt && input.alt.length > 512) {
        userErrors.push({
          field: ["files", String(i), "alt"],
          message: "The alt value exceeds the maximum limit of 512 characters.",
          code: "ALT_VALUE_LIMIT_EXCEEDED",
        });
      }
      if (input.filename && extensionOf(input.filename) !== extensionOf(file.filename)) {
        userErrors.push({
          field: ["files", String(i), "filename"],
          message: "The filename's extension must match the original file's.",
          code: "INVALID_FILENAME_EXTENSION",
        });
      }
      targets.push(file);
    });
    if (userErrors.length) return { files: null, userErrors };
    const now = new Date();
    inputs.forEach((input, i) => {
      const file = targets[i]!;
      if (input.alt != null) file.alt = input.alt;
      if (input.filename) file.filename = input.filename;
      file.updatedAt = now;
      if (input.originalSource) {
        const forcedFailure = shop.failNextFileUpdate;
        const delayMs = shop.slowNextFileUpdateMs ?? undefined;
        shop.failNextFileUpdate = null;
        shop.slowNextFileUpdateMs = null;
        file.status = "PROCESSING";
        file.replacements++;
        this.process(shop, file, input.originalSource, { isUpdate: true, forcedFailure, delayMs });
      }
    });
    return { files: targets, userErrors: [] };
  }

  acknowledgeUpdateFailed(shop: ShopState, ids: string[]): { files: FileRecord[] | null; userErrors: UserErrorOut[] } {
    const userErrors: UserErrorOut[] = [];
    const files: FileRecord[] = [];
    ids.forEach((id, i) => {
      const file = shop.files.get(id);
      if (!file) userErrors.push({ field: ["fileIds", String(i)], message: `File id ${id} does not exist.`, code: "FILE_DOES_NOT_EXIST" });
      else if (file.status !== "FAILED")
        userErrors.push({
          field: ["fileIds", String(i)],
          message: "Only files whose update failed can be acknowledged.",
          code: "NON_READY_STATE",
        });
      else files.push(file);
    });
    if (userErrors.length) return { files: null, userErrors };
    for (const file of files) {
      // The failed replacement is dropped; the file keeps (or regains) its previous content.
      file.status = file.blob ? "READY" : "FAILED";
      file.fileErrors = [];
      file.updatedAt = new Date();
    }
    return { files, userErrors: [] };
  }

  /** Stores the body of an upload to a staged target. Returns an error text for a refused upload. */
  receiveUpload(
    token: string,
    bytes: Buffer,
    fields: { key?: string | null; contentType?: string | null },
  ): { ok: true; key: string } | { ok: false; status: number; code: string; message: string } {
    const staged = this.store.staged.get(token);
    if (!staged) return { ok: false, status: 404, code: "NoSuchUpload", message: "The staged upload target does not exist." };
    if (fields.key != null && fields.key !== staged.key)
      return { ok: false, status: 403, code: "AccessDenied", message: "The key does not match the staged upload's policy." };
    if (fields.contentType && fields.contentType.split(";")[0]!.trim().toLowerCase() !== staged.mimeType.toLowerCase()) {
      return {
        ok: false,
        status: 403,
        code: "SignatureDoesNotMatch",
        message: `Content-Type ${fields.contentType} does not match the staged mimeType ${staged.mimeType}.`,
      };
    }
    if (staged.fileSize !== null && bytes.length > staged.fileSize) {
      return {
        ok: false,
        status: 400,
        code: "EntityTooLarge",
        message: `Your proposed upload is larger than the declared fileSize (${staged.fileSize} bytes).`,
      };
    }
    staged.bytes = bytes;
    return { ok: true, key: staged.key };
  }

  /** The bytes behind an originalSource: a staged upload or CDN file of this stand-in, or any http(s) URL. */
  async loadSource(shop: ShopState, source: string): Promise<Buffer> {
    const url = new URL(source);
    if (url.origin === new URL(this.store.baseUrl).origin) {
      const staged = /^\/staged-uploads\/([0-9a-f]+)(?:\/|$)/.exec(url.pathname);
      if (staged) {
        const upload = this.store.staged.get(staged[1]!);
        if (!upload || upload.shop !== shop.domain)
          throw new SourceError("IMAGE_DOWNLOAD_FAILURE", "The staged upload does not exist for this shop.");
        if (!upload.bytes) throw new SourceError("IMAGE_DOWNLOAD_FAILURE", "Nothing was uploaded to the staged target.");
        return upload.bytes;
      }
      const blob = this.store.fileForUrl(source)?.blob;
      if (blob) return this.store.blobBytes(blob);
    }
    let response: Response;
    try {
      response = await fetch(source, { signal: AbortSignal.timeout(SOURCE_FETCH_TIMEOUT_MS) });
    } catch (error) {
      throw new SourceError("IMAGE_DOWNLOAD_FAILURE", `Could not download ${source}: ${String(error)}`);
    }
    if (!response.ok) throw new SourceError("IMAGE_DOWNLOAD_FAILURE", `Downloading ${source} answered HTTP ${response.status}.`);
    const bytes = Buffer.from(await response.arrayBuffer());
    if (bytes.length > MAX_SOURCE_BYTES) throw new SourceError("INVALID_IMAGE_FILE_SIZE", "Image is larger than 20 MB.");
    return bytes;
  }

  private process(
    shop: ShopState,
    file: FileRecord,
    source: string,
    opts: { isUpdate: boolean; forcedFailure: string | null; delayMs?: number },
  ): void {
    const generation = ++file.generation;
    const startedAt = Date.now();
    const current = () => file.generation === generation;
    this.timers.later(0, () => {
      if (current() && file.status === "UPLOADED") file.status = "PROCESSING";
    });
    const finish = (apply: () => void) => {
      const settle = () => {
        if (!current()) return;
        // Held PROCESSING until the app has read it enough times (a photo Shopify takes long to process).
        if (file.processingForReads > 0) return this.timers.later(20, settle);
        apply();
      };
      this.timers.later(Math.max(0, startedAt + (opts.delayMs ?? this.readyDelayMs) - Date.now()), settle);
    };
    const fail = (error: FileErrorRecord) =>
      finish(() => {
        file.status = "FAILED";
        file.fileErrors = [error];
        file.updatedAt = new Date();
      });
    if (opts.forcedFailure !== null) {
      fail({
        code: "IMAGE_PROCESSING_FAILURE",
        message: opts.forcedFailure || "Image processing failed.",
        details: opts.forcedFailure || null,
      });
      return;
    }
    void this.decode(shop, file, source).then(
      (blob) =>
        finish(() => {
          file.blob = blob;
          if (!extensionOf(file.filename)) file.filename = `${file.filename}.${blob.ext}`;
          file.status = "READY";
          file.fileErrors = [];
          file.originalSourceUrl = source;
          file.updatedAt = new Date();
          if (opts.isUpdate) this.onReplaced(shop, file);
        }),
      (error: unknown) => {
        const code = error instanceof SourceError ? error.code : "IMAGE_PROCESSING_FAILURE";
        fail({ code, message: error instanceof Error ? error.message : String(error), details: null });
      },
    );
  }

  private async decode(shop: ShopState, file: FileRecord, source: string): Promise<BlobRecord> {
    const bytes = await this.loadSource(shop, source);
    const stem = file.filename.replace(/\.[^.]*$/, "");
    if (file.typename === "GenericFile") {
      const ext = /\.([a-z0-9]+)$/i.exec(file.filename)?.[1]?.toLowerCase() ?? "bin";
      return this.store.addBlob(bytes, { stem, ext, mimeType: "application/octet-stream", width: 0, height: 0 });
    }
    let metadata: Metadata;
    try {
      metadata = await sharp(bytes).metadata();
    } catch {
      throw new SourceError("UNSUPPORTED_IMAGE_FILE_TYPE", "Image could not be processed because the file is not a supported image.");
    }
    const ext = metadata.format ? IMAGE_EXTENSIONS[metadata.format] : undefined;
    if (!ext || !metadata.width || !metadata.height) {
      throw new SourceError("UNSUPPORTED_IMAGE_FILE_TYPE", `Image format ${metadata.format ?? "unknown"} is not supported.`);
    }
    if (metadata.width * metadata.height > 25_000_000)
      throw new SourceError("INVALID_IMAGE_RESOLUTION", "Image resolution is larger than 25 megapixels.");
    const mimeType = `image/${ext === "jpg" ? "jpeg" : ext === "tif" ? "tiff" : ext}`;
    return this.store.addBlob(bytes, { stem, ext, mimeType, width: metadata.width, height: metadata.height });
  }
}

function isHttpUrl(value: string | null | undefined): value is string {
  if (!value) return false;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

function filenameFromUrl(source: string): string {
  try {
    const last = decodeURIComponent(new URL(source).pathname.split("/").filter(Boolean).at(-1) ?? "");
    return last || "file";
  } catch {
    return "file";
  }
}

/** Lower-case extension without the dot, with jpeg spelled jpg; null when there is none. */
function extensionOf(filename: string | null | undefined): string | null {
  const ext = filename ? /\.([a-z0-9]+)$/i.exec(filename)?.[1]?.toLowerCase() : undefined;
  if (!ext) return null;
  return ext === "jpeg" ? "jpg" : ext;
}

function looksLikeImage(filename: string): boolean {
  return /\.(jpe?g|png|webp|gif|avif|heic|tiff?)$/i.test(filename);
}
