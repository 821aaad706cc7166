// DashScope's OpenAI-compatible chat completions endpoint as the Qwen-VL models use it (an image and a question in,
// text out), for the app's alt text. It checks the key and the body against the documented contract and answers in
// the OpenAI shapes DashScope uses ({choices, usage} and {error: {message, type, code}}). The "description" is made
// from what it can see without a model: the product's main colour in the image, and the product name and language
// the prompt asks for, so a test can tell the image and the prompt reached it.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import sharp from "sharp";

export const CHAT_COMPLETIONS_PATH = "/compatible-mode/v1/chat/completions";

export interface VisionRequestRecord {
  model: string;
  prompt: string;
  imageBytes: number;
}

type Part = { type: "text"; text: string } | { type: "image_url"; image_url: { url: string } };

class VisionContractError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const COLOURS: Array<{ en: string; es: string; rgb: [number, number, number] }> = [
  { en: "black", es: "negro", rgb: [20, 20, 20] },
  { en: "grey", es: "gris", rgb: [128, 128, 128] },
  { en: "white", es: "blanco", rgb: [235, 235, 235] },
  { en: "red", es: "rojo", rgb: [200, 30, 30] },
  { en: "orange", es: "naranja", rgb: [230, 130, 30] },
  { en: "yellow", es: "amarillo", rgb: [230, 210, 40] },
  { en: "green", es: "verde", rgb: [40, 160, 60] },
  { en: "blue", es: "azul", rgb: [40, 80, 200] },
  { en: "purple", es: "morado", rgb: [130, 50, 160] },
  { en: "brown", es: "marrón", rgb: [120, 80, 40] },
  { en: "pink", es: "rosa", rgb: [230, 140, 170] },
];

/** The nearest named colour to the mean of the pixels that are not the near-white background. */
async function mainColour(image: Buffer): Promise<(typeof COLOURS)[number]> {
  const { data, info } = await sharp(image).resize(64, 64, { fit: "inside" }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let r = 0;
  let g = 0;
  let b = 0;
  let n = 0;
  for (let i = 0; i < data.length; i += info.channels) {
    if (data[i]! > 240 && data[i + 1]! > 240 && data[i + 2]! > 240) continue;
    r += data[i]!;
    g += data[i + 1]!;
    b += data[i + 2]!;
    n++;
  }
  const mean = n ? [r / n, g / n, b / n] : [255, 255, 255];
  return COLOURS.reduce((best, c) => (distance(c.rgb, mean) < distance(best.rgb, mean) ? c : best));
}

function distance(a: readonly number[], b: readonly number[]): number {
  return a.reduce((sum, v, i) => sum + (v - b[i]!) ** 2, 0);
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new VisionContractError(400, "invalid_request_error", "The request body is not valid JSON.");
  }
}

function imageOf(url: string): Buffer {
  const match = /^data:image\/(png|jpeg|webp);base64,(.+)$/s.exec(url);
  if (!match)
    throw new VisionContractError(
      400,
      "invalid_request_error",
      "The image_url must be an http(s) URL or a base64 data URL of a png, jpeg or webp image.",
    );
  return Buffer.from(match[2]!, "base64");
}

export async function answerChatCompletion(
  request: IncomingMessage,
  response: ServerResponse,
  opts: { apiKey: string; record(entry: VisionRequestRecord): void },
): Promise<void> {
  const send = (status: number, body: unknown) => {
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(body));
  };
  try {
    if (request.headers.authorization !== `Bearer ${opts.apiKey}`)
      throw new VisionContractError(401, "invalid_api_key", "Incorrect API key provided.");
    const body = (await readJson(request)) as { model?: unknown; messages?: unknown };
    if (typeof body.model !== "string" || !body.model.startsWith("qwen"))
      throw new VisionContractError(400, "model_not_found", "The model does not exist or you do not have access to it.");
    if (!Array.isArray(body.messages) || body.messages.length === 0)
      throw new VisionContractError(400, "invalid_request_error", "messages must be a non-empty array.");
    const parts = (body.messages as Array<{ role?: string; content?: unknown }>).flatMap((m) =>
      m.role === "user" && Array.isArray(m.content) ? (m.content as Part[]) : [],
    );
    const text = parts
      .filter((p): p is Extract<Part, { type: "text" }> => p.type === "text")
      .map((p) => p.text)
      .join("\n");
    const images = parts.filter((p): p is Extract<Part, { type: "image_url" }> => p.type === "image_url");
    if (images.length === 0) throw new VisionContractError(400, "invalid_request_error", "No image was given to a vision model.");
    const image = imageOf(images[0]!.image_url.url);
    const colour = await mainColour(image).catch(() => {
      throw new VisionContractError(400, "invalid_request_error", "The image could not be read.");
    });
    opts.record({ model: body.model, prompt: text, imageBytes: image.length });
    // The product's name is the prompt's last quoted phrase (the app quotes it last).
    const name = [...text.matchAll(/"([^"]{1,200})"/g)].at(-1)?.[1] ?? "Product";
    const spanish = /\bSpanish\b|\bespañol\b/i.test(text);
    const content = spanish ? `${name} en color ${colour.es} sobre fondo blanco` : `${name} in ${colour.en} on a white background`;
    send(200, {
      id: `chatcmpl-${randomUUID()}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      system_fingerprint: null,
      choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop", logprobs: null }],
      usage: { prompt_tokens: 400, completion_tokens: 20, total_tokens: 420 },
    });
  } catch (error) {
    if (error instanceof VisionContractError) {
      send(error.status, {
        error: { message: error.message, type: error.status === 401 ? "invalid_request_error" : error.code, code: error.code },
      });
      return;
    }
    send(500, {
      error: { message: "An internal error has occured, please try again later.", type: "internal_error", code: "internal_error" },
    });
  }
}
