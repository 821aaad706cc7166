/**
 * A local stand-in for the part of Shopify's Partner API the app reads: the organization's transactions
 * (`transactions(appId:, types:, createdAtMin:, first:, after:)`), at
 * `POST /<organization id>/api/<version>/graphql.json` with the Partner API token in `X-Shopify-Access-Token`.
 * The schema below is the Partner API's own types for these fields, as shopify.dev documents them (Transaction
 * interface, AppOneTimeSale, AppSaleAdjustment, Money, Shop, App, TransactionConnection); every query is validated
 * against it. A refund the developer issues from the Partner Dashboard appears as an AppSaleAdjustment.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { buildSchema, graphql, type GraphQLSchema } from "graphql";
import { outlastClientKeepAlive } from "../keep-alive";

const SDL = /* GraphQL */ `
  scalar DateTime
  scalar Decimal
  scalar URL

  enum Currency {
    USD
    EUR
    GBP
    CAD
    AUD
    MXN
  }

  enum TransactionType {
    APP_ONE_TIME_SALE
    APP_SALE_ADJUSTMENT
    APP_SALE_CREDIT
    APP_SUBSCRIPTION_SALE
    APP_USAGE_SALE
    LEGACY
    REFERRAL
    REFERRAL_ADJUSTMENT
    SERVICE_SALE
    SERVICE_SALE_ADJUSTMENT
    TAX
    THEME_SALE
    THEME_SALE_ADJUSTMENT
  }

  type Money {
    amount: Decimal!
    currencyCode: Currency!
  }
  type Shop {
    id: ID!
    myshopifyDomain: URL
    name: String!
  }
  type App {
    id: ID!
    name: String!
    apiKey: String
  }
  type PageInfo {
    hasNextPage: Boolean!
    hasPreviousPage: Boolean!
  }

  interface Transaction {
    id: ID!
    createdAt: DateTime!
  }

  type AppOneTimeSale implements Transaction {
    id: ID!
    createdAt: DateTime!
    app: App!
    chargeId: ID
    grossAmount: Money
    netAmount: Money!
    shop: Shop
    shopifyFee: Money
  }

  type AppSaleAdjustment implements Transaction {
    id: ID!
    createdAt: DateTime!
    app: App!
    chargeId: ID
    grossAmount: Money
    netAmount: Money!
    shop: Shop
    shopifyFee: Money
  }

  type TransactionEdge {
    cursor: String!
    node: Transaction!
  }
  type TransactionConnection {
    edges: [TransactionEdge!]!
    pageInfo: PageInfo!
  }

  type QueryRoot {
    transactions(
      after: String
      appId: ID
      before: String
      createdAtMax: DateTime
      createdAtMin: DateTime
      first: Int
      last: Int
      myshopifyDomain: String
      shopId: ID
      types: [TransactionType!]
    ): TransactionConnection!
  }

  schema {
    query: QueryRoot
  }
`;

export interface EmulatedTransaction {
  __typename: "AppOneTimeSale" | "AppSaleAdjustment";
  id: string;
  createdAt: string;
  appId: string;
  chargeId: string | null;
  /** Decimal string; negative for money going back to the merchant. */
  grossAmount: string;
  currencyCode: string;
  shop: string;
}

export interface PartnerEmulator {
  url: string;
  organizationId: string;
  accessToken: string;
  appId: string;
  /** The developer refunds `amount` (a decimal string, e.g. "9.99") of a one-time charge from the Partner Dashboard. */
  refundCharge(input: { chargeId: string; shop: string; amount: string; currencyCode?: string }): EmulatedTransaction;
  close(): Promise<void>;
}

let schema: GraphQLSchema | null = null;

export async function startPartnerEmulator(opts: { port?: number; appId?: string } = {}): Promise<PartnerEmulator> {
  schema ??= buildSchema(SDL);
  const organizationId = String(1_000_000 + Math.floor(Math.random() * 1_000_000));
  const accessToken = `prtapi_${randomBytes(16).toString("hex")}`;
  const appId = opts.appId ?? "gid://partners/App/4242";
  const transactions: EmulatedTransaction[] = [];
  // Partner API ids are unique across the platform, so a database that outlives one stand-in never sees an id twice.
  let nextId = Date.now() * 1000 + Math.floor(Math.random() * 1000);

  const resolvers = {
    transactions(args: {
      after?: string | null;
      appId?: string | null;
      createdAtMin?: string | null;
      createdAtMax?: string | null;
      first?: number | null;
      types?: string[] | null;
      myshopifyDomain?: string | null;
    }) {
      const first = Math.min(args.first ?? 50, 100);
      const types = args.types?.map((t) =>
        t === "APP_SALE_ADJUSTMENT" ? "AppSaleAdjustment" : t === "APP_ONE_TIME_SALE" ? "AppOneTimeSale" : t,
      );
      const matching = transactions.filter(
        (t) =>
          (!args.appId || t.appId === args.appId) &&
          (!types || types.includes(t.__typename)) &&
          (!args.createdAtMin || t.createdAt >= new Date(args.createdAtMin).toISOString()) &&
          (!args.createdAtMax || t.createdAt <= new Date(args.createdAtMax).toISOString()) &&
          (!args.myshopifyDomain || t.shop === args.myshopifyDomain),
      );
      const start = args.after ? matching.findIndex((t) => t.id === Buffer.from(args.after!, "base64url").toString()) + 1 : 0;
      const page = matching.slice(start, start + first);
      return {
        edges: page.map((t) => ({
          cursor: Buffer.from(t.id).toString("base64url"),
          node: {
            __typename: t.__typename,
            id: t.id,
            createdAt: t.createdAt,
            app: { id: t.appId, name: "Product Image Cleanup", apiKey: null },
            chargeId: t.chargeId,
            grossAmount: { amount: t.grossAmount, currencyCode: t.currencyCode },
            netAmount: { amount: (Number(t.grossAmount) * 0.85).toFixed(2), currencyCode: t.currencyCode },
            shopifyFee: { amount: (Number(t.grossAmount) * 0.15).toFixed(2), currencyCode: t.currencyCode },
            shop: { id: `gid://partners/Shop/${t.shop.length}`, myshopifyDomain: t.shop, name: t.shop.split(".")[0] },
          },
        })),
        pageInfo: { hasNextPage: start + first < matching.length, hasPreviousPage: start > 0 },
      };
    },
  };

  const server = outlastClientKeepAlive(
    createServer((req: IncomingMessage, res: ServerResponse) => {
      void (async () => {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const send = (status: number, body: unknown) => {
          res.writeHead(status, { "Content-Type": "application/json" });
          res.end(JSON.stringify(body));
        };
        const path = new URL(req.url ?? "/", "http://x").pathname;
        if (req.method !== "POST" || !new RegExp(`^/${organizationId}/api/[0-9]{4}-[0-9]{2}/graphql\\.json$`).test(path)) {
          return send(404, { errors: [{ message: "Not Found" }] });
        }
        if (req.headers["x-shopify-access-token"] !== accessToken) {
          return send(401, { errors: [{ message: "Invalid API key or access token (unrecognized login or wrong password)" }] });
        }
        let body: { query?: string; variables?: Record<string, unknown> };
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as typeof body;
        } catch {
          return send(400, { errors: [{ message: "Invalid JSON" }] });
        }
        const result = await graphql({
          schema: schema!,
          source: body.query ?? "",
          rootValue: resolvers,
          variableValues: body.variables ?? {},
        });
        send(200, result);
      })().catch((error: unknown) => {
        res.writeHead(500);
        res.end(String(error));
      });
    }),
  );
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    organizationId,
    accessToken,
    appId,
    refundCharge({ chargeId, shop, amount, currencyCode = "USD" }) {
      const transaction: EmulatedTransaction = {
        __typename: "AppSaleAdjustment",
        id: `gid://partners/AppSaleAdjustment/${nextId++}`,
        createdAt: new Date().toISOString(),
        appId,
        chargeId,
        grossAmount: `-${amount.replace(/^-/, "")}`,
        currencyCode,
        shop,
      };
      transactions.push(transaction);
      return transaction;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
