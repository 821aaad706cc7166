// Writes .env.example from the declarations in app/lib/config.server.ts (`npm run env:example`);
// test/unit/config/env-example.test.ts fails while the file is stale.
import { writeFile } from "node:fs/promises";
import { renderEnvExample } from "../app/lib/config.server";

await writeFile(new URL("../.env.example", import.meta.url), renderEnvExample());
console.log(".env.example written");
