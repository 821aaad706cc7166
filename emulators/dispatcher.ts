import { Agent, setGlobalDispatcher, type Dispatcher } from "undici";

/**
 * Sends requests for https://<shop>.myshopify.com to the Shopify stand-in named by
 * SHOPIFY_EMULATOR_URL (read on every request, so tests can start the stand-in on any port).
 * The shop travels in the X-Emulated-Shop header because the Host header becomes the stand-in's.
 * Only tests and the demo install this; production code paths are the real ones.
 */
class EmulatorAgent extends Agent {
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const target = process.env.SHOPIFY_EMULATOR_URL;
    const origin = typeof options.origin === "string" ? options.origin : options.origin?.toString();
    if (target && origin) {
      const host = new URL(origin).hostname;
      if (host.endsWith(".myshopify.com")) {
        const headers = withHeader(options.headers, "x-emulated-shop", host);
        return super.dispatch({ ...options, origin: new URL(target).origin, headers }, handler);
      }
    }
    return super.dispatch(options, handler);
  }
}

function withHeader(headers: Dispatcher.DispatchOptions["headers"], name: string, value: string): Dispatcher.DispatchOptions["headers"] {
  if (!headers) return { [name]: value };
  if (Array.isArray(headers)) return [...headers, name, value] as string[];
  if (
    typeof (headers as Iterable<unknown>)[Symbol.iterator] === "function" &&
    !(typeof headers === "object" && !("entries" in headers) && !Array.isArray(headers))
  ) {
    return [...(headers as Iterable<[string, string]>), [name, value]] as unknown as Dispatcher.DispatchOptions["headers"];
  }
  return { ...(headers as Record<string, string>), [name]: value };
}

let installed = false;
export function installEmulatorDispatcher(): void {
  if (installed) return;
  setGlobalDispatcher(new EmulatorAgent());
  installed = true;
}
