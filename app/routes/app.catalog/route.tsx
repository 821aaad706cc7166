import { json, type ActionFunctionArgs, type HeadersFunction, type LoaderFunctionArgs } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { Layout, Page } from "@shopify/polaris";
import { boundary } from "@shopify/shopify-app-remix/server";
import { useTranslation } from "react-i18next";
import { RouteError } from "~/components/RouteError";
import { useRevalidateWhile } from "~/components/useRevalidateWhile";
import type { CatalogRunView } from "~/models/catalog-runs.server";
import { authenticate } from "~/shopify.server";
import { NewRunCard } from "./components/NewRunCard";
import { RunCard } from "./components/RunCard";
import { answerRunForm, catalogPageData } from "./view-model.server";

const POLL_MS = 2_000;

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return json(await catalogPageData(session.shop));
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session, admin } = await authenticate.admin(request);
  return answerRunForm(admin.graphql, session.shop, Object.fromEntries(await request.formData()));
};

export default function CatalogPage() {
  const { runs, available, creditsPerImage, pipelines, maxBudget } = useLoaderData<typeof loader>();
  const runViews = runs as unknown as CatalogRunView[];
  const working = runViews.some((r) => r.status === "COUNTING" || r.status === "RUNNING");
  const { t } = useTranslation();

  useRevalidateWhile(working, POLL_MS);

  return (
    <Page title={t("catalog.title")} subtitle={t("catalog.subtitle")}>
      <Layout>
        <Layout.Section>
          <NewRunCard pipelines={pipelines} creditsPerImage={creditsPerImage} maxBudget={maxBudget} />
        </Layout.Section>
        {runViews.map((run) => (
          <Layout.Section key={run.id}>
            <RunCard run={run} available={available} creditsPerImage={creditsPerImage} maxBudget={maxBudget} />
          </Layout.Section>
        ))}
      </Layout>
    </Page>
  );
}

export function ErrorBoundary() {
  const { t } = useTranslation();
  return <RouteError title={t("catalog.title")} />;
}

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);
