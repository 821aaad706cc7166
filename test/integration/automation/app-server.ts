/**
 * The app's webhook routes behind a real HTTP server, so the Shopify stand-in delivers its signed webhooks to them
 * exactly as Shopify would (and the app under test runs in this process, with its database and queues).
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

type Action = (args: { request: Request; params: Record<string, string>; context: Record<string, unknown> }) => Promise<unknown>;

export interface WebhookAppServer {
  url: string;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startWebhookAppServer(routes: Record<string, Action>): Promise<WebhookAppServer> {
  const server: Server = createServer((req, res) => {
    void (async () => {
      const action = routes[new URL(req.url ?? "/", "http://app.invalid").pathname];
      if (!action) return res.writeHead(404).end();
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value);
      const request = new Request(new URL(req.url ?? "/", process.env.SHOPIFY_APP_URL), {
        method: req.method,
        headers,
        body: new Uint8Array(await readBody(req)),
      });
      let status: number;
      try {
        const result = await action({ request, params: {}, context: {} });
        status = result instanceof Response ? result.status : 200;
      } catch (thrown) {
        if (!(thrown instanceof Response)) throw thrown;
        status = thrown.status;
      }
      res.writeHead(status).end();
    })().catch((error: unknown) => {
      console.error("webhook app server: route failed", error);
      res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
