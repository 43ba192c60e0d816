// `npm run openapi [-- --check] [--out <file>]`: writes the edge's OpenAPI 3.1 document (docs/openapi.json by
// default) from the route definitions, in Node — the SDK generators and docs read the file. `--check` exits 1
// when the file is not what the routes generate (npm run check runs it).
import { readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    check: { type: "boolean", default: false },
    out: { type: "string", default: "docs/openapi.json" },
  },
});

// The Worker's modules are type-checked with the Worker (workers/tsconfig.json), not with Node's types, so they
// are loaded by a computed path the Node type check does not follow. Nothing they import needs the Workers runtime.
const load = (path: string) => import(new URL(path, import.meta.url).href);
const { createApp } = await load("../workers/app.ts");
const { openApiDocument } = await load("../workers/openapi/document.ts");
const text = `${JSON.stringify(openApiDocument(createApp()), null, 2)}\n`;

const out = values.out as string;
if (values.check) {
  const current = await readFile(out, "utf8").catch(() => "");
  if (current !== text) {
    console.error(`${out} is not what the route definitions generate: run npm run openapi`);
    process.exit(1);
  }
} else {
  await writeFile(out, text);
  console.log(`wrote ${out} (${text.length} bytes)`);
}
