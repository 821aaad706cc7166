/**
 * Encrypts Shopify access and refresh tokens at rest (the Session table): AES-256-GCM with keys from
 * SESSION_TOKEN_KEYS, a comma-separated list of base64 32-byte keys. The first key encrypts; every key in the list
 * decrypts, so a key is rotated by putting a new one first, running `npm run tokens:reencrypt`, then dropping the
 * old one. Values written before encryption was turned on (no prefix) are read as they are and encrypted on their
 * next write.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

const PREFIX = "enc:v1:";

export class TokenKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TokenKeyError";
  }
}

export interface TokenCipher {
  readonly enabled: boolean;
  encrypt(token: string): string;
  decrypt(stored: string): string;
  /** Stored in plain text or under a key other than the current one. */
  isStale(stored: string): boolean;
}

function keyId(key: Buffer): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 8);
}

export function parseTokenKeys(value: string | undefined): Buffer[] {
  if (!value?.trim()) return [];
  return value.split(",").map((part, index) => {
    const key = Buffer.from(part.trim(), "base64");
    if (key.length !== 32) {
      throw new TokenKeyError(
        `SESSION_TOKEN_KEYS entry ${index + 1} is not a base64 32-byte key (make one with: openssl rand -base64 32).`,
      );
    }
    return key;
  });
}

export function createTokenCipher(keys: Buffer[]): TokenCipher {
  const byId = new Map(keys.map((key) => [keyId(key), key]));
  const current = keys[0];
  const currentId = current ? keyId(current) : null;
  return {
    enabled: current !== undefined,
    encrypt(token) {
      if (!current) return token;
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", current, iv);
      const sealed = Buffer.concat([cipher.update(token, "utf8"), cipher.final(), cipher.getAuthTag()]);
      return `${PREFIX}${currentId}:${iv.toString("base64url")}:${sealed.toString("base64url")}`;
    },
    decrypt(stored) {
      if (!stored.startsWith(PREFIX)) return stored;
      const [id, ivText, sealedText] = stored.slice(PREFIX.length).split(":");
      const key = id ? byId.get(id) : undefined;
      if (!key || !ivText || !sealedText) {
        throw new TokenKeyError(
          `A stored Shopify token was encrypted with key ${id ?? "?"}, which SESSION_TOKEN_KEYS does not hold: add that key back (after the current one).`,
        );
      }
      const sealed = Buffer.from(sealedText, "base64url");
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(ivText, "base64url"));
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]).toString("utf8");
    },
    isStale(stored) {
      if (!currentId) return false;
      return !stored.startsWith(`${PREFIX}${currentId}:`);
    },
  };
}
