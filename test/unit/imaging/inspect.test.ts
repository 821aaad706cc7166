import { describe, expect, it } from "vitest";
import { fileExtensionFor, sniffImageFormat } from "~/imaging/inspect";

describe("sniffImageFormat", () => {
  it("reads the real type from the first bytes, not the name", () => {
    expect(sniffImageFormat(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe("jpeg");
    expect(sniffImageFormat(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe("png");
    expect(sniffImageFormat(Buffer.from("GIF89a..."))).toBe("gif");
    expect(sniffImageFormat(Buffer.concat([Buffer.from("RIFF"), Buffer.alloc(4), Buffer.from("WEBP")]))).toBe("webp");
    expect(sniffImageFormat(Buffer.concat([Buffer.alloc(4), Buffer.from("ftypheic")]))).toBe("heic");
    expect(sniffImageFormat(Buffer.from("\uFEFF  <svg xmlns='http://www.w3.org/2000/svg'></svg>"))).toBe("svg");
    expect(sniffImageFormat(Buffer.from("id,title\n1,Mug\n"))).toBe("text");
    expect(sniffImageFormat(Buffer.from([0x00, 0x01, 0x02, 0x03, 0x9c]))).toBe("unknown");
  });
});

describe("fileExtensionFor", () => {
  it("names files the way merchants know them, and admits a type it does not know", () => {
    expect(fileExtensionFor("image/jpeg")).toBe("jpg");
    expect(fileExtensionFor("image/png")).toBe("png");
    expect(fileExtensionFor("image/webp")).toBe("webp");
    expect(fileExtensionFor("application/octet-stream")).toBeNull();
    expect(fileExtensionFor(null)).toBeNull();
  });
});
