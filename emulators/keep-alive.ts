import type { Server } from "node:http";

/**
 * Keeps idle connections open longer than any client does (undici drops its idle sockets after 4 s; Node's server
 * closes its own after 5 s by default), so the client always closes first and never sends a request on a socket
 * the stand-in is closing at that moment ("read ECONNRESET" on a busy machine). Real Shopify, DashScope and Stripe
 * endpoints keep connections for a minute or more too.
 */
export function outlastClientKeepAlive(server: Server): Server {
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return server;
}
