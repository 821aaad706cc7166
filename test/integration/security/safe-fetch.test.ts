import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEnv } from "~/lib/config.server";
import { fetchImage, fetchPolicyFromEnv, UnsafeFetchError, type FetchPolicy } from "~/lib/safe-fetch.server";

const PNG = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000", "hex");
let server: Server;
let origin: string;
let hits: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    hits.push(url.pathname);
    const [, route, arg] = url.pathname.split("/");
    switch (route) {
      case "image":
        res.writeHead(200, { "Content-Type": "image/png", "Content-Length": PNG.length }).end(PNG);
        return;
      case "redirect":
        res.writeHead(302, { Location: decodeURIComponent(arg ?? "") }).end();
        return;
      case "loop":
        res.writeHead(301, { Location: `/loop/${Number(arg ?? 0) + 1}` }).end();
        return;
      case "huge": // streamed without a length, so only the running count can stop it
        res.writeHead(200, { "Content-Type": "image/jpeg" });
        for (let i = 0; i < 64; i++) res.write(Buffer.alloc(64 * 1024, 1));
        res.end();
        return;
      case "declared-huge":
        res.writeHead(200, { "Content-Type": "image/jpeg", "Content-Length": String(50 * 1024 * 1024) });
        res.end();
        return;
      case "html":
        res.writeHead(200, { "Content-Type": "text/html" }).end("<html><script>alert(1)</script></html>");
        return;
      case "status":
        res.writeHead(Number(arg)).end();
        return;
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/** The production policy, with this one local stand-in (host:port) allowed over http. */
function standIn(overrides: Partial<FetchPolicy> = {}): FetchPolicy {
  return fetchPolicyFromEnv({ config: parseEnv({ SAFE_FETCH_LOCAL_HOSTS: new URL(origin).host }), overrides });
}

async function refusal(promise: Promise<unknown>): Promise<UnsafeFetchError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnsafeFetchError);
  return error as UnsafeFetchError;
}

describe("fetchImage", () => {
  it("downloads an image from an allow-listed host", async () => {
    const image = await fetchImage(`${origin}/image/a.png`, standIn());
    expect(image.bytes.equals(PNG)).toBe(true);
    expect(image.contentType).toBe("image/png");
  });

  it("follows a redirect that stays on allowed hosts", async () => {
    const image = await fetchImage(`${origin}/redirect/${encodeURIComponent("/image/b.png")}`, standIn());
    expect(image.finalUrl).toBe(`${origin}/image/b.png`);
  });

  it("re-checks every redirect and refuses one to a host off the allow-list, without fetching it", async () => {
    for (const target of ["http://169.254.169.254/latest/meta-data/", "https://evil.example.com/x.png", "http://127.0.0.1:1/x.png"]) {
      const error = await refusal(fetchImage(`${origin}/redirect/${encodeURIComponent(target)}`, standIn()));
      expect(error).toMatchObject({ code: expect.stringMatching(/^(HOST_NOT_ALLOWED|SCHEME_NOT_ALLOWED)$/), permanent: true });
    }
  });

  it("stops after three redirects", async () => {
    expect(await refusal(fetchImage(`${origin}/loop/0`, standIn()))).toMatchObject({ code: "TOO_MANY_REDIRECTS" });
    expect(hits.filter((path) => path.startsWith("/loop/")).length).toBe(4);
  });

  it("refuses bodies over the size cap, declared or streamed", async () => {
    const policy = standIn({ maxBytes: 1024 * 1024 });
    expect(await refusal(fetchImage(`${origin}/huge`, policy))).toMatchObject({ code: "TOO_LARGE", permanent: true });
    expect(await refusal(fetchImage(`${origin}/declared-huge`, policy))).toMatchObject({ code: "TOO_LARGE" });
  });

  it("refuses what is not an image", async () => {
    expect(await refusal(fetchImage(`${origin}/html`, standIn()))).toMatchObject({ code: "NOT_AN_IMAGE", permanent: true });
  });

  it("marks server errors and throttling as worth retrying, and a missing image as final", async () => {
    expect(await refusal(fetchImage(`${origin}/status/503`, standIn()))).toMatchObject({
      code: "HTTP_ERROR",
      permanent: false,
      status: 503,
    });
    expect(await refusal(fetchImage(`${origin}/status/429`, standIn()))).toMatchObject({ permanent: false });
    expect(await refusal(fetchImage(`${origin}/status/404`, standIn()))).toMatchObject({ permanent: true, status: 404 });
  });

  it("by default (no NODE_ENV) refuses a host that resolves to a private address, at connect time", async () => {
    hits = [];
    const production = fetchPolicyFromEnv({ config: parseEnv({ ALLOWED_IMAGE_HOSTS: "localhost" }) });
    const error = await refusal(fetchImage(`https://localhost:${new URL(origin).port}/image/a.png`, production));
    expect(error).toMatchObject({ code: "PRIVATE_ADDRESS", permanent: true });
    expect(hits).toEqual([]);
  });

  it("by default (no NODE_ENV) refuses plain http and loopback literals before connecting", async () => {
    hits = [];
    const production = fetchPolicyFromEnv({ config: parseEnv({ ALLOWED_IMAGE_HOSTS: new URL(origin).host }) });
    expect(await refusal(fetchImage(`${origin}/image/a.png`, production))).toMatchObject({ code: "SCHEME_NOT_ALLOWED" });
    expect(await refusal(fetchImage(`https://${new URL(origin).host}/image/a.png`, production))).toMatchObject({ code: "PRIVATE_ADDRESS" });
    expect(hits).toEqual([]);
  });
});
