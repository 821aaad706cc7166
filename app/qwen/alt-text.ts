import { declaredDefault, getConfig, type Config } from "~/lib/config.server";
import { logger } from "~/lib/logger.server";
import { describePreview } from "~/imaging/preview";
import { DEFAULT_DASHSCOPE_BASE_URL } from "./client";

/** DashScope's OpenAI-compatible endpoint, which serves the Qwen-VL models. */
const CHAT_COMPLETIONS_PATH = "/compatible-mode/v1/chat/completions";
const DEFAULT_VL_MODEL = declaredDefault("QWEN_VL_MODEL");
/** Shopify accepts 512 characters; screen readers and search engines are best served by one short sentence. */
const MAX_ALT = 160;
const LANGUAGE_NAMES: Record<string, string> = {
  en: "English",
  es: "Spanish",
  fr: "French",
  de: "German",
  it: "Italian",
  pt: "Portuguese",
  nl: "Dutch",
  ja: "Japanese",
};

export interface AltTextRequest {
  image: Buffer;
  /** describePreview of the image when the caller already has it (made from pixels it had decoded anyway). */
  preview?: Buffer | null;
  productTitle: string;
  /** The shop's primary locale, e.g. "es" or "pt-BR". */
  locale: string;
}

export interface AltTextWriter {
  describe(request: AltTextRequest): Promise<string>;
}

export function altTextPrompt(productTitle: string, locale: string): string {
  const language = LANGUAGE_NAMES[locale.split("-")[0]!.toLowerCase()] ?? "English";
  const title = productTitle.replace(/["\n\r]/g, " ").slice(0, 120);
  return (
    `Write the alt text for this product photo of an online store, in ${language}. ` +
    `One plain sentence of at most 125 characters describing the product as it appears (its kind, colour, material, ` +
    `distinctive details). Do not start with "image of" or "photo of". The product is called "${title}".`
  );
}

/** One line, no quotes around it, cut at a word within MAX_ALT characters. */
export function cleanAltText(text: string): string {
  const line = text
    .replace(/\s+/g, " ")
    .trim()
    .replace(/^["'“”«]+|["'“”»]+$/g, "")
    .trim();
  if (line.length <= MAX_ALT) return line;
  const cut = line.slice(0, MAX_ALT);
  return cut.slice(0, Math.max(cut.lastIndexOf(" "), MAX_ALT / 2)).replace(/[,;:]$/, "");
}

/** Qwen-VL through DashScope's documented OpenAI-compatible chat completions endpoint. */
export class QwenAltTextClient implements AltTextWriter {
  readonly #apiKey: string;

  constructor(private readonly opts: { apiKey: string; baseUrl?: string; model?: string; timeoutMs?: number }) {
    this.#apiKey = opts.apiKey;
  }

  async describe(request: AltTextRequest): Promise<string> {
    const preview = request.preview ?? (await describePreview(request.image));
    const response = await fetch(`${this.opts.baseUrl ?? DEFAULT_DASHSCOPE_BASE_URL}${CHAT_COMPLETIONS_PATH}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${this.#apiKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        model: this.opts.model ?? DEFAULT_VL_MODEL,
        messages: [
          {
            role: "user",
            content: [
              { type: "image_url", image_url: { url: `data:image/jpeg;base64,${preview.toString("base64")}` } },
              { type: "text", text: altTextPrompt(request.productTitle, request.locale) },
            ],
          },
        ],
        max_tokens: 120,
      }),
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
    });
    const body = (await response.json().catch(() => ({}))) as {
      choices?: Array<{ message?: { content?: unknown } }>;
      error?: { code?: string; message?: string };
    };
    if (!response.ok) throw new Error(`Qwen-VL ${response.status} ${body.error?.code ?? ""}: ${body.error?.message ?? "no answer"}`);
    const content = body.choices?.[0]?.message?.content;
    const alt = typeof content === "string" ? cleanAltText(content) : "";
    if (!alt) throw new Error("Qwen-VL answered without text");
    return alt;
  }
}

/** From DASHSCOPE_API_KEY and DASHSCOPE_BASE_URL (as the editor), QWEN_VL_MODEL; none without a key. */
export function altTextClientFromEnv(config: Config = getConfig()): AltTextWriter | undefined {
  if (!config.DASHSCOPE_API_KEY) {
    logger.warn("DASHSCOPE_API_KEY is not set: no alt text will be suggested");
    return undefined;
  }
  return new QwenAltTextClient({ apiKey: config.DASHSCOPE_API_KEY, baseUrl: config.DASHSCOPE_BASE_URL, model: config.QWEN_VL_MODEL });
}
