import { getJwt } from "@shopify/shopify-api/test-helpers";

const API_KEY = () => process.env.SHOPIFY_API_KEY!;
const API_SECRET = () => process.env.SHOPIFY_API_SECRET!;

/** A request the embedded app's own fetches make: `Authorization: Bearer <session token>`. */
export async function bearerRequest(shop: string, path: string, init: RequestInit = {}): Promise<Request> {
  // getJwt takes the store name and appends .myshopify.com itself.
  const { token } = await getJwt(shop.replace(/\.myshopify\.com$/, ""), API_KEY(), API_SECRET());
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${token}`);
  return new Request(new URL(path, process.env.SHOPIFY_APP_URL), { ...init, headers });
}

export async function formRequest(shop: string, path: string, fields: Record<string, string>): Promise<Request> {
  return bearerRequest(shop, path, { method: "POST", body: new URLSearchParams(fields) });
}

type RouteFn<A> = (args: { request: Request; params: Record<string, string>; context: Record<string, unknown> }) => Promise<A>;

/** Calls a loader or action; Remix routes throw Responses (404, redirects), which are returned here. */
export async function call<A>(fn: RouteFn<A>, request: Request, params: Record<string, string> = {}): Promise<A | Response> {
  try {
    return await fn({ request, params, context: {} });
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    throw thrown;
  }
}

/** The JSON body of a loader/action result, whether it is a Response or plain data. */
export async function body<T = unknown>(result: unknown): Promise<T> {
  if (result instanceof Response) return (await result.json()) as T;
  return result as T;
}

export function status(result: unknown): number {
  return result instanceof Response ? result.status : 200;
}
