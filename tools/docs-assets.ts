// `npm run docs:assets`: copies Scalar's browser bundle (≈ 5 MB, a build artefact of a pinned devDependency, so not
// committed) into the Worker's static assets at public/docs/standalone.js, where GET /docs loads it. `npm start`
// and `npm test` run it first, so a fresh clone serves the reference offline. The file is not in the package's
// `exports`, so it is found by path beside the package's entry.
import { copyFile, mkdir, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

// The package's entry is dist/index.js; the bundle sits beside it in dist/browser/.
const source = fileURLToPath(new URL("browser/standalone.js", import.meta.resolve("@scalar/api-reference")));
const target = new URL("../public/docs/standalone.js", import.meta.url).pathname;

const [from, to] = await Promise.all([stat(source), stat(target).catch(() => undefined)]);
if (to && to.size === from.size && to.mtimeMs >= from.mtimeMs) process.exit(0);
await mkdir(dirname(target), { recursive: true });
await copyFile(source, target);
console.log(`[docs:assets] copied ${source} → public/docs/standalone.js (${from.size} bytes)`);
