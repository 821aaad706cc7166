/**
 * Allow-listed fetching of images (product sources from Shopify's CDN, results from DashScope).
 * The worker must download every remote image through this module, never with bare `fetch`.
 *
 *   import { fetchImage, fetchPolicyFromEnv, UnsafeFetchError } from "~/lib/safe-fetch.server";
 *   const policy = fetchPolicyFromEnv({ shop });              // once per job
 *   const { bytes, contentType, finalUrl } = await fetchImage(url, policy);
 *   // UnsafeFetchError has `code` and `permanent`: when permanent, fail the item (UnrecoverableError);
 *   // otherwise (timeouts, 5xx, 429) let BullMQ retry.
 *
 *   checkUrlAllowed(url, policy) -> { ok: true } | { ok: false, code, message }   (sync, no DNS; for input validation)
 *
 * Rules: only allow-listed hosts ("cdn.shopify.com", DashScope's result buckets
 * "dashscope-result-*.oss-*.aliyuncs.com", the shop's own domain, plus ALLOWED_IMAGE_HOSTS); https only;
 * each redirect hop is re-checked; hosts resolving to private, loopback, link-local or otherwise
 * non-public addresses are refused, and that check runs at connect time so DNS rebinding cannot
 * slip past it; bodies are capped at `maxBytes` and must be images. Plain http and private
 * addresses are reached only when configuration says so: for the hosts named in
 * SAFE_FETCH_LOCAL_HOSTS (local stand-ins), or everywhere with SAFE_FETCH_ALLOW_PRIVATE=true.
 * NODE_ENV plays no part: a deployment that forgets it is still protected.
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { request as httpsRequest } from "node:https";
import { BlockList, isIP } from "node:net";
import { Readable } from "node:stream";
import { getConfig, type Config } from "./config.server";
import { readBodyCapped } from "./read-capped.server";

export type UnsafeFetchCode =
  | "INVALID_URL"
  | "SCHEME_NOT_ALLOWED"
  | "HOST_NOT_ALLOWED"
  | "PRIVATE_ADDRESS"
  | "TOO_MANY_REDIRECTS"
  | "TOO_LARGE"
  | "NOT_AN_IMAGE"
  | "HTTP_ERROR"
  | "TIMEOUT"
  | "NETWORK";

export class UnsafeFetchError extends Error {
  override readonly name = "UnsafeFetchError";
  constructor(
    readonly code: UnsafeFetchCode,
    message: string,
    /** False for failures worth retrying (timeouts, network errors, 5xx and 429). */
    readonly permanent: boolean,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface FetchPolicy {
  /** Host names, "*.suffix" wildcards, or "host:port" entries. */
  allowedHosts: readonly string[];
  allowPrivateAddresses: boolean;
  /** Hosts (patterns as in allowedHosts) that may be reached over http and on private addresses: local stand-ins. */
  localHosts: readonly string[];
  maxBytes: number;
  maxRedirects: number;
  timeoutMs: number;
}

export const SHOPIFY_CDN_HOSTS = ["cdn.shopify.com", "cdn.shopifycdn.net"] as const;
// DashScope returns result URLs on its own Alibaba Cloud OSS buckets, one per region, such as
// dashscope-result-bj.oss-cn-beijing.aliyuncs.com or dashscope-result-sgp.oss-ap-southeast-1.aliyuncs.com.
// Not all of *.aliyuncs.com: that is every customer's bucket and Alibaba's internal endpoints.
export const DASHSCOPE_RESULT_HOSTS = ["dashscope-result-*.oss-*.aliyuncs.com"] as const;

/**
 * The policy from configuration: ALLOWED_IMAGE_HOSTS (extra hosts, the same variable the queue config reads),
 * SAFE_FETCH_LOCAL_HOSTS (hosts that may be fetched over plain http on private addresses: the local stand-ins),
 * SAFE_FETCH_ALLOW_PRIVATE, MAX_SOURCE_BYTES (body cap) and SAFE_FETCH_TIMEOUT_MS (whole-download timeout).
 * `overrides` replaces any field (e.g. a smaller maxBytes for one call).
 */
export function fetchPolicyFromEnv(options: { shop?: string; config?: Config; overrides?: Partial<FetchPolicy> } = {}): FetchPolicy {
  const config = options.config ?? getConfig();
  const localHosts = [...config.SAFE_FETCH_LOCAL_HOSTS];
  return {
    allowedHosts: [
      ...SHOPIFY_CDN_HOSTS,
      ...DASHSCOPE_RESULT_HOSTS,
      ...(options.shop ? [options.shop.toLowerCase()] : []),
      ...config.ALLOWED_IMAGE_HOSTS,
      ...localHosts,
    ],
    allowPrivateAddresses: config.SAFE_FETCH_ALLOW_PRIVATE,
    localHosts,
    maxBytes: config.MAX_SOURCE_BYTES,
    maxRedirects: 3,
    timeoutMs: config.SAFE_FETCH_TIMEOUT_MS,
    ...options.overrides,
  };
}

const nonPublic = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  nonPublic.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  // IPv4-compatible (deprecated; ::127.0.0.1), which also covers :: and ::1.
  ["::", 96],
  // IPv4-translated (SIIT; ::ffff:0:7f00:1).
  ["::ffff:0:0:0", 96],
  // NAT64, well-known and local-use prefixes: they embed an IPv4 address the gateway dials.
  ["64:ff9b::", 96],
  ["64:ff9b:1::", 48],
  ["100::", 64],
  ["2001:db8::", 32],
  // 6to4: embeds an IPv4 address (2002:7f00:1::).
  ["2002::", 16],
  ["fc00::", 7],
  ["fe80::", 10],
  // Site-local (deprecated, still routed privately by some networks).
  ["fec0::", 10],
  ["ff00::", 8],
] as const) {
  nonPublic.addSubnet(network, prefix, "ipv6");
}

/** True for loopback, private, link-local, CGNAT, documentation, multicast and reserved addresses. */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, "");
  const family = isIP(bare);
  if (family === 4) return nonPublic.check(bare, "ipv4");
  if (family === 6) {
    const mapped = bare.toLowerCase().match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/)?.[1];
    if (mapped) return nonPublic.check(mapped, "ipv4");
    if (/^::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/i.test(bare)) return true; // IPv4-mapped in hex form
    return nonPublic.check(bare, "ipv6");
  }
  return false;
}

/**
 * Patterns: "host", "host:port", "*.suffix" (any subdomain), or "*" inside labels ("dashscope-result-*.oss-*.example"),
 * where each "*" stands for letters, digits and hyphens within one label but never an "-internal" endpoint.
 */
function hostMatches(url: URL, pattern: string): boolean {
  const hostname = url.hostname.toLowerCase().replace(/^\[|\]$/g, "");
  const withPort = url.port ? `${hostname}:${url.port}` : hostname;
  if (pattern.startsWith("*.")) return hostname.endsWith(pattern.slice(1)) && hostname.length > pattern.length - 1;
  if (pattern.includes("*")) {
    const label = "(?:(?!internal)[a-z0-9-])+";
    const source = pattern
      .split("*")
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(label);
    return new RegExp(`^${source}$`).test(hostname) && !/-internal\./.test(hostname);
  }
  return pattern.includes(":") && !isIP(pattern) ? withPort === pattern : hostname === pattern.replace(/^\[|\]$/g, "");
}

function isLocalHost(url: URL, policy: FetchPolicy): boolean {
  return policy.localHosts.some((pattern) => hostMatches(url, pattern));
}

export type UrlCheck = { ok: true; url: URL } | { ok: false; code: UnsafeFetchCode; message: string };

/** The synchronous part of the policy (no DNS): scheme, allow-list and literal private addresses. */
export function checkUrlAllowed(input: string | URL, policy: FetchPolicy): UrlCheck {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return { ok: false, code: "INVALID_URL", message: "The image address is not a valid URL." };
  }
  const local = isLocalHost(url, policy);
  const privateAllowed = local || policy.allowPrivateAddresses;
  if (url.protocol !== "https:" && !(privateAllowed && url.protocol === "http:")) {
    return { ok: false, code: "SCHEME_NOT_ALLOWED", message: `Images can only be fetched over https (got ${url.protocol}).` };
  }
  if (url.username || url.password) {
    return { ok: false, code: "INVALID_URL", message: "Image addresses with credentials are not accepted." };
  }
  if (!local && !policy.allowedHosts.some((pattern) => hostMatches(url, pattern))) {
    return {
      ok: false,
      code: "HOST_NOT_ALLOWED",
      message: `Images are only fetched from Shopify's CDN and the image service; ${url.hostname} is not allowed.`,
    };
  }
  if (!privateAllowed && isPrivateAddress(url.hostname)) {
    return { ok: false, code: "PRIVATE_ADDRESS", message: "Images on private or local network addresses are not fetched." };
  }
  return { ok: true, url };
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

// Runs inside the socket connect, so the address actually dialled is the one checked.
function publicOnlyLookup(hostname: string, options: object, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const list = addresses as LookupAddress[];
    const refused = list.find((entry) => isPrivateAddress(entry.address));
    if (refused || list.length === 0) {
      const failure: NodeJS.ErrnoException = new Error(`Refused private address for ${hostname}`);
      failure.code = "EPRIVATEADDRESS";
      return callback(failure, []);
    }
    if ((options as { all?: boolean }).all) return callback(null, list);
    const first = list[0] as LookupAddress;
    return callback(null, first.address, first.family);
  });
}

/**
 * One GET over https whose socket may only reach public addresses (node:https with a checking
 * `lookup`, so no extra dependency). Private-address policy implies https, so http is not needed here.
 */
function getPublicOnly(url: URL, signal: AbortSignal): Promise<Response> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      url,
      { method: "GET", headers: { accept: "image/*" }, lookup: publicOnlyLookup as never, signal },
      (incoming) => {
        const headers = new Headers();
        for (let i = 0; i + 1 < incoming.rawHeaders.length; i += 2) headers.append(incoming.rawHeaders[i]!, incoming.rawHeaders[i + 1]!);
        const status = incoming.statusCode ?? 502;
        const bodyless = status === 204 || status === 304 || status < 200;
        if (bodyless) incoming.resume();
        const body = bodyless ? null : (Readable.toWeb(incoming) as ReadableStream<Uint8Array>);
        resolve(new Response(body, { status: status < 200 ? 502 : status, headers }));
      },
    );
    request.on("error", reject);
    request.end();
  });
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export interface FetchedImage {
  bytes: Buffer;
  contentType: string;
  finalUrl: string;
}

/** Downloads an image under `policy`; throws UnsafeFetchError for every refusal or failure. */
export async function fetchImage(input: string | URL, policy: FetchPolicy): Promise<FetchedImage> {
  const signal = AbortSignal.timeout(policy.timeoutMs);
  let current = String(input);
  for (let hop = 0; ; hop++) {
    const check = checkUrlAllowed(current, policy);
    if (!check.ok) throw new UnsafeFetchError(check.code, check.message, true);

    const response = await send(check.url, policy, signal);
    if (REDIRECT_STATUSES.has(response.status)) {
      await response.body?.cancel().catch(() => undefined);
      const location = response.headers.get("location");
      if (!location)
        throw new UnsafeFetchError("HTTP_ERROR", "The image server answered a redirect without a location.", true, response.status);
      if (hop >= policy.maxRedirects) {
        throw new UnsafeFetchError("TOO_MANY_REDIRECTS", `The image address redirected more than ${policy.maxRedirects} times.`, true);
      }
      current = new URL(location, check.url).toString();
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      const retryable = response.status === 429 || response.status >= 500;
      throw new UnsafeFetchError("HTTP_ERROR", `The image server answered ${response.status}.`, !retryable, response.status);
    }
    const contentType = (response.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    if (!contentType.startsWith("image/")) {
      await response.body?.cancel().catch(() => undefined);
      throw new UnsafeFetchError("NOT_AN_IMAGE", `The address does not point to an image (content type "${contentType || "none"}").`, true);
    }
    const bytes = await readCapped(response, policy.maxBytes, signal);
    return { bytes, contentType, finalUrl: check.url.toString() };
  }
}

async function send(url: URL, policy: FetchPolicy, signal: AbortSignal): Promise<Response> {
  const init = { redirect: "manual" as const, signal, headers: { accept: "image/*" } };
  try {
    if (policy.allowPrivateAddresses || isLocalHost(url, policy)) {
      // Global fetch, so the test and demo dispatchers that route to the local stand-ins apply.
      return await fetch(url, init);
    }
    return await getPublicOnly(url, signal);
  } catch (error) {
    if (signal.aborted) throw new UnsafeFetchError("TIMEOUT", `The image download took longer than ${policy.timeoutMs} ms.`, false);
    if (causeCode(error) === "EPRIVATEADDRESS") {
      throw new UnsafeFetchError("PRIVATE_ADDRESS", "Images on private or local network addresses are not fetched.", true);
    }
    throw new UnsafeFetchError("NETWORK", `The image server could not be reached (${causeCode(error) ?? "network error"}).`, false);
  }
}

function causeCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

async function readCapped(response: Response, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
  const tooLarge = () => new UnsafeFetchError("TOO_LARGE", `The image is larger than ${Math.round(maxBytes / 1024 / 1024)} MB.`, true);
  try {
    return await readBodyCapped(response, maxBytes, tooLarge);
  } catch (error) {
    if (error instanceof UnsafeFetchError) throw error;
    if (signal.aborted) throw new UnsafeFetchError("TIMEOUT", "The image download took too long.", false);
    throw new UnsafeFetchError("NETWORK", "The image download was interrupted.", false);
  }
}
