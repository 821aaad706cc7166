import type { HeadersFunction, LoaderFunctionArgs } from "@remix-run/node";
import { Link, Outlet, useLoaderData, useLocation, useRouteError } from "@remix-run/react";
import { NavMenu } from "@shopify/app-bridge-react";
import polarisStyles from "@shopify/polaris/build/esm/styles.css?url";
import { boundary } from "@shopify/shopify-app-remix/server";
import { AppProvider } from "@shopify/shopify-app-remix/react";
import { LowBalanceBanner } from "~/components/LowBalanceBanner";
import prisma from "~/db.server";
import { CREDITS_PER_IMAGE, getBalance } from "~/models/credits.server";
import { authenticate } from "../shopify.server";

export const links = () => [{ rel: "stylesheet", href: polarisStyles }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const balance = await getBalance(prisma, session.shop);
  return { apiKey: process.env.SHOPIFY_API_KEY || "", balance: { available: balance.available }, creditsPerImage: CREDITS_PER_IMAGE };
};

export default function App() {
  const { apiKey, balance, creditsPerImage } = useLoaderData<typeof loader>();
  const { pathname } = useLocation();
  return (
    <AppProvider isEmbeddedApp apiKey={apiKey}>
      <NavMenu>
        <Link to="/app" rel="home">
          Images
        </Link>
        <Link to="/app/batches">Batches</Link>
        <Link to="/app/credits">Credits</Link>
        <Link to="/app/settings">Settings</Link>
      </NavMenu>
      {pathname.startsWith("/app/credits") ? null : (
        <LowBalanceBanner available={balance.available} creditsPerImage={creditsPerImage} />
      )}
      <Outlet />
    </AppProvider>
  );
}

// Shopify needs Remix to catch thrown responses so their headers (auth redirects) survive.
export function ErrorBoundary() {
  return boundary.error(useRouteError());
}

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);
