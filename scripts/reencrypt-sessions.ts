/**
 * npm run tokens:reencrypt: rewrites every stored Shopify token under the first key of SESSION_TOKEN_KEYS (after
 * turning encryption on, or after putting a new key first). Keep the old key in the list until this has run.
 */
import prisma from "~/db.server";
import { reencryptSessionTokens } from "~/models/offline-sessions.server";
import { tokenCipher } from "~/shopify.server";

const changed = await reencryptSessionTokens(prisma, tokenCipher);
console.log(`re-encrypted the tokens of ${changed} session(s)`);
await prisma.$disconnect();
