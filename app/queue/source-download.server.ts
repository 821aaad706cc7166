/**
 * Downloads a product image's source with the guards a worker needs against hostile or broken URLs:
 * allow-listed hosts only (re-checked on every redirect), a byte limit enforced while streaming.
 */
export class SourceDownloadError extends Error {
  readonly retryable: boolean;
  readonly merchantMessage: string;
  constructor(merchantMessage: string, retryable: boolean, detail?: string) {
    super(detail ? `${merchantMessage} (${detail})` : merchantMessage);
    this.name = "SourceDownloadError";
    this.retryable = retryable;
    this.merchantMessage = merchantMessage;
  }
}

export function isAllowedImageUrl(url: URL, allowedHosts: string[]): boolean {
  const host = url.hostname.toLowerCase();
  const hostWithPort = url.host.toLowerCase();
  const allowed = allowedHosts.some((h) => h === host || h === hostWithPort);
  if (!allowed) return false;
  // Plain http only for hosts added by configuration (local stand-ins); Shopify's CDN is https.
  if (url.protocol === "https:") return true;
  return url.protocol === "http:" && host !== "cdn.shopify.com";
}

export async function downloadSource(
  sourceUrl: string,
  opts: { allowedHosts: string[]; maxBytes: number; fetchImpl?: typeof fetch; timeoutMs?: number; maxRedirects?: number },
): Promise<{ bytes: Buffer; contentType: string | null }> {
  const fetchImpl = opts.fetchImpl ?? fetch;
  let url: URL;
  try {
    url = new URL(sourceUrl);
  } catch {
    throw new SourceDownloadError("The image's address is not a valid URL.", false);
  }
  for (let hop = 0; hop <= (opts.maxRedirects ?? 3); hop++) {
    if (!isAllowedImageUrl(url, opts.allowedHosts)) {
      throw new SourceDownloadError("The image is not hosted on Shopify's CDN, so it was not downloaded.", false, url.host);
    }
    let response: Response;
    try {
      response = await fetchImpl(url, { redirect: "manual", signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000) });
    } catch (error) {
      throw new SourceDownloadError("The image could not be downloaded right now.", true, (error as Error).message);
    }
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get("location");
      await response.body?.cancel().catch(() => undefined);
      if (!location) throw new SourceDownloadError("The image's address redirects nowhere.", false);
      url = new URL(location, url);
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      const retryable = response.status >= 500 || response.status === 429 || response.status === 408;
      throw new SourceDownloadError(
        retryable ? "Shopify's CDN did not deliver the image right now." : "The original image is no longer available on Shopify's CDN.",
        retryable,
        `HTTP ${response.status}`,
      );
    }
    const declared = Number(response.headers.get("content-length") ?? "0");
    if (declared > opts.maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw new SourceDownloadError(tooBig(opts.maxBytes), false);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = response.body?.getReader();
    if (!reader) throw new SourceDownloadError("The image download was empty.", true);
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw new SourceDownloadError("The image download was interrupted.", true, (error as Error).message);
      }
      if (chunk.done) break;
      total += chunk.value.byteLength;
      if (total > opts.maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new SourceDownloadError(tooBig(opts.maxBytes), false);
      }
      chunks.push(chunk.value);
    }
    return { bytes: Buffer.concat(chunks), contentType: response.headers.get("content-type") };
  }
  throw new SourceDownloadError("The image's address redirects too many times.", false);
}

function tooBig(maxBytes: number): string {
  return `The original image is larger than ${Math.round(maxBytes / (1024 * 1024))} MB; upload a smaller file to the product and try again.`;
}
