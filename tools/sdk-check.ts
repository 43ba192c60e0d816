// `npm run sdk:check` (part of `npm run check`): the TypeScript SDK (sdk/typescript, its own package with
// TypeScript 5 and openapi-typescript, which the root's TypeScript 7 cannot host) has types generated from the
// current docs/openapi.json, builds with tsc, and packs into a tarball holding its built entry points.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const sdk = new URL("../sdk/typescript/", import.meta.url).pathname;
const bin = (name: string) => join(sdk, "node_modules", ".bin", name);
const run = (command: string, args: string[]) =>
  execFileSync(command, args, { cwd: sdk, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
const scratch = mkdtempSync(join(tmpdir(), "clip-edge-sdk-"));

try {
  // 1. The generated types are what the document generates now.
  const fresh = join(scratch, "openapi.gen.ts");
  run(bin("openapi-typescript"), ["../../docs/openapi.json", "-o", fresh, "--silent"]);
  if (readFileSync(fresh, "utf8") !== readFileSync(join(sdk, "src/generated/openapi.gen.ts"), "utf8")) {
    fail(
      "sdk/typescript/src/generated/openapi.gen.ts is stale: run npm run --prefix sdk/typescript generate",
    );
  }
  // 2. It builds.
  run(bin("tsc"), ["-p", "tsconfig.json"]);
  // 3. It packs, and the tarball holds what package.json's exports point at.
  const [packed] = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", scratch])) as {
    filename: string;
    files: { path: string }[];
  }[];
  const files = new Set(packed?.files.map((f) => f.path));
  const needed = [
    "package.json",
    "README.md",
    "dist/index.js",
    "dist/index.d.ts",
    "dist/client.js",
    "dist/downsize.js",
  ];
  const missing = needed.filter((f) => !files.has(f));
  if (missing.length > 0 || !readdirSync(scratch).includes(packed?.filename ?? "")) {
    fail(`the packed SDK lacks ${missing.join(", ") || "its tarball"}`);
  }
  // The built files import each other as .js (tsc rewrote the .ts extensions), as any bundler or Node expects.
  if (/from "\.\/[^"]+\.ts"/.test(readFileSync(join(sdk, "dist/index.js"), "utf8"))) {
    fail("dist/index.js still imports .ts files");
  }
  // And the built module loads as a consumer would, with no Node-only import in the way.
  const built = await import(join(sdk, "dist/index.js"));
  if (typeof built.ClipEdge !== "function" || typeof built.downsizeImage !== "function") {
    fail("dist/index.js does not export ClipEdge and downsizeImage");
  }
  console.log(`sdk: types current, built, packed ${packed?.filename} (${files.size} files)`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}
