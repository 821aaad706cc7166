import { describe, expect, it } from "vitest";
import { altTextPrompt, cleanAltText } from "~/qwen/alt-text";

describe("alt text from the vision model", () => {
  it("keeps one line without surrounding quotes, cut at a word within 160 characters", () => {
    expect(cleanAltText('  "Red ceramic mug\nwith a wide handle"  ')).toBe("Red ceramic mug with a wide handle");
    const source = `${"Blue linen shirt with buttons, ".repeat(8)}end`;
    const long = cleanAltText(source);
    expect(long.length).toBeGreaterThan(120);
    expect(long.length).toBeLessThanOrEqual(160);
    // Whole words only: what follows the cut in the model's text is a space.
    expect(source.startsWith(long)).toBe(true);
    expect(source[long.length]).toBe(" ");
  });

  it("asks in the shop's language, naming the product last and without its quotes", () => {
    expect(altTextPrompt('Mug "Aura"', "es")).toMatch(/in Spanish\./);
    expect(altTextPrompt("Mug", "pt-BR")).toMatch(/in Portuguese\./);
    expect(altTextPrompt("Mug", "xx")).toMatch(/in English\./);
    expect(altTextPrompt('Mug "Aura"', "en").endsWith('called "Mug  Aura ".')).toBe(true);
  });
});
