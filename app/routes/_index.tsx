import { redirect, type LoaderFunctionArgs } from "@remix-run/node";

// The app lives inside Shopify admin; a direct visit with a shop goes to the embedded app.
export const loader = async ({ request }: LoaderFunctionArgs) => {
  const url = new URL(request.url);
  if (url.searchParams.get("shop")) throw redirect(`/app?${url.searchParams.toString()}`);
  return new Response("Product Image Cleanup is a Shopify app: open it from your store's admin.", {
    headers: { "Content-Type": "text/plain; charset=utf-8" },
  });
};
