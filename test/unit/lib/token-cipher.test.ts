import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createTokenCipher, parseTokenKeys, TokenKeyError } from "~/lib/token-cipher.server";

const oldKey = randomBytes(32);
const newKey = randomBytes(32);
const token = "shpat_0123456789abcdef0123456789abcdef";

describe("token cipher", () => {
  it("stores a token unreadable without the key and gives it back with it", () => {
    const cipher = createTokenCipher([oldKey]);
    const stored = cipher.encrypt(token);
    expect(stored).not.toContain(token);
    expect(stored).not.toBe(cipher.encrypt(token));
    expect(cipher.decrypt(stored)).toBe(token);
  });

  it("reads tokens stored before encryption as they are, and calls them stale", () => {
    const cipher = createTokenCipher([oldKey]);
    expect(cipher.decrypt(token)).toBe(token);
    expect(cipher.isStale(token)).toBe(true);
  });

  it("rotates: the new key encrypts, the old one still decrypts until it is dropped", () => {
    const before = createTokenCipher([oldKey]).encrypt(token);
    const rotating = createTokenCipher([newKey, oldKey]);
    expect(rotating.decrypt(before)).toBe(token);
    expect(rotating.isStale(before)).toBe(true);
    const after = rotating.encrypt(token);
    expect(rotating.isStale(after)).toBe(false);
    expect(createTokenCipher([newKey]).decrypt(after)).toBe(token);
    expect(() => createTokenCipher([newKey]).decrypt(before)).toThrow(TokenKeyError);
    expect(() => createTokenCipher([newKey]).decrypt(before)).toThrow(/add that key back/);
  });

  it("refuses a tampered value", () => {
    const cipher = createTokenCipher([oldKey]);
    const stored = cipher.encrypt(token);
    const tampered = stored.slice(0, -2) + (stored.endsWith("A") ? "BB" : "AA");
    expect(() => cipher.decrypt(tampered)).toThrow();
  });

  it("parses keys from the environment and says how to make a valid one", () => {
    expect(parseTokenKeys(undefined)).toEqual([]);
    expect(parseTokenKeys(` ${newKey.toString("base64")} , ${oldKey.toString("base64")}`)).toEqual([newKey, oldKey]);
    expect(() => parseTokenKeys("c2hvcnQ=")).toThrow(/openssl rand -base64 32/);
    expect(createTokenCipher([]).encrypt(token)).toBe(token);
  });
});
