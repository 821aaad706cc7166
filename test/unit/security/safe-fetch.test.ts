import { describe, expect, it } from "vitest";
import { parseEnv } from "~/lib/config.server";
import { checkUrlAllowed, fetchPolicyFromEnv, isPrivateAddress, type FetchPolicy } from "~/lib/safe-fetch.server";

// A deployment that sets nothing: NODE_ENV plays no part.
const production: FetchPolicy = fetchPolicyFromEnv({ shop: "shop-a.myshopify.com", config: parseEnv({}) });

describe("isPrivateAddress", () => {
  it.each([
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.5",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "::1",
    "[::1]",
    "fd00::1",
    "fe80::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::",
    "::127.0.0.1",
    "::ffff:0:7f00:1",
    "2002:7f00:1::1",
    "2002:a00:1::",
    "64:ff9b::7f00:1",
    "64:ff9b:1::a00:1",
    "fec0::1",
  ])("refuses %s", (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each(["23.227.38.65", "151.101.1.1", "172.32.0.1", "::ffff:23.227.38.65", "2606:4700::6810:84e5", "cdn.shopify.com"])(
    "accepts %s",
    (address) => {
      expect(isPrivateAddress(address)).toBe(false);
    },
  );
});

describe("checkUrlAllowed in production configuration", () => {
  it("accepts Shopify's CDN, the shop's own domain and DashScope's result buckets over https", () => {
    for (const url of [
      "https://cdn.shopify.com/s/files/1/0001/products/a.jpg?v=1",
      "https://shop-a.myshopify.com/cdn/shop/files/a.jpg",
      "https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/1d/ab/result.png?Expires=1",
    ]) {
      expect(checkUrlAllowed(url, production)).toMatchObject({ ok: true });
    }
  });

  it.each([
    ["http://cdn.shopify.com/a.jpg", "SCHEME_NOT_ALLOWED"],
    ["file:///etc/passwd", "SCHEME_NOT_ALLOWED"],
    ["ftp://cdn.shopify.com/a.jpg", "SCHEME_NOT_ALLOWED"],
    ["https://evil.example.com/a.jpg", "HOST_NOT_ALLOWED"],
    ["https://cdn.shopify.com.evil.example/a.jpg", "HOST_NOT_ALLOWED"],
    ["https://shop-b.myshopify.com/cdn/shop/files/a.jpg", "HOST_NOT_ALLOWED"],
    ["https://aliyuncs.com.evil.example/a.png", "HOST_NOT_ALLOWED"],
    ["https://someone-elses-bucket.oss-cn-beijing.aliyuncs.com/a.png", "HOST_NOT_ALLOWED"],
    ["https://dashscope-result-bj.oss-cn-beijing-internal.aliyuncs.com/a.png", "HOST_NOT_ALLOWED"],
    ["https://ecs.aliyuncs.com/a.png", "HOST_NOT_ALLOWED"],
    ["https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com.evil.example/a.png", "HOST_NOT_ALLOWED"],
    ["https://169.254.169.254/latest/meta-data", "HOST_NOT_ALLOWED"],
    ["https://user:pass@cdn.shopify.com/a.jpg", "INVALID_URL"],
    ["not a url", "INVALID_URL"],
  ])("refuses %s (%s)", (url, code) => {
    expect(checkUrlAllowed(url, production)).toMatchObject({ ok: false, code });
  });

  it("refuses an allow-listed host that is a private address literal", () => {
    const policy = { ...production, allowedHosts: [...production.allowedHosts, "10.0.0.8"] };
    expect(checkUrlAllowed("https://10.0.0.8/a.jpg", policy)).toMatchObject({ ok: false, code: "PRIVATE_ADDRESS" });
  });

  it("explains the refusal in words a merchant can read", () => {
    const result = checkUrlAllowed("https://evil.example.com/a.jpg", production);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(/only fetched from Shopify's CDN/);
  });
});

describe("fetchPolicyFromEnv", () => {
  it("refuses private addresses and plain http whatever NODE_ENV says, unless configuration allows them", () => {
    for (const NODE_ENV of [undefined, "development", "test", "production"]) {
      expect(fetchPolicyFromEnv({ config: parseEnv({ NODE_ENV }) }).allowPrivateAddresses).toBe(false);
      expect(checkUrlAllowed("http://cdn.shopify.com/a.jpg", fetchPolicyFromEnv({ config: parseEnv({ NODE_ENV }) }))).toMatchObject({
        ok: false,
      });
    }
    expect(fetchPolicyFromEnv({ config: parseEnv({ SAFE_FETCH_ALLOW_PRIVATE: "true" }) }).allowPrivateAddresses).toBe(true);
  });

  it("lets only the named local stand-ins be reached over http on a private address", () => {
    const policy = fetchPolicyFromEnv({ config: parseEnv({ SAFE_FETCH_LOCAL_HOSTS: "127.0.0.1:4010" }) });
    expect(checkUrlAllowed("http://127.0.0.1:4010/cdn/a.png", policy)).toMatchObject({ ok: true });
    expect(checkUrlAllowed("http://127.0.0.1:4011/cdn/a.png", policy)).toMatchObject({ ok: false, code: "SCHEME_NOT_ALLOWED" });
    expect(checkUrlAllowed("https://127.0.0.1:4011/cdn/a.png", policy)).toMatchObject({ ok: false, code: "HOST_NOT_ALLOWED" });
    expect(checkUrlAllowed("http://10.0.0.8/a.png", { ...policy, allowedHosts: [...policy.allowedHosts, "10.0.0.8"] })).toMatchObject({
      ok: false,
      code: "SCHEME_NOT_ALLOWED",
    });
  });

  it("adds configured stand-in hosts, matching host:port entries exactly", () => {
    const policy = fetchPolicyFromEnv({
      config: parseEnv({ SAFE_FETCH_ALLOW_PRIVATE: "true", ALLOWED_IMAGE_HOSTS: "127.0.0.1:4010, Images.Example.test" }),
    });
    expect(checkUrlAllowed("http://127.0.0.1:4010/cdn/a.png", policy)).toMatchObject({ ok: true });
    expect(checkUrlAllowed("http://127.0.0.1:4011/cdn/a.png", policy)).toMatchObject({ ok: false, code: "HOST_NOT_ALLOWED" });
    expect(checkUrlAllowed("https://images.example.test/a.png", policy)).toMatchObject({ ok: true });
  });
});
