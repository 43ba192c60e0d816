import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Whether the third-party reference data a test reads from `../shared` (OpenAI's merges, golden tokenisations,
 * preprocessing goldens) is here. A clone without it skips those tests with a warning; CI always has it, so with
 * `CI=true` a missing file fails the test file instead of skipping it unnoticed.
 *
 * @example describe.skipIf(!sharedDataPresent("OpenAI parity tests", MERGES, GOLDEN))("parity", () => { … })
 */
export function sharedDataPresent(what: string, ...paths: (string | URL)[]): boolean {
  const missing = paths.map((p) => (p instanceof URL ? fileURLToPath(p) : p)).filter((p) => !existsSync(p));
  if (missing.length === 0) return true;
  const message = `${what}: ${missing.join(", ")} missing (shared reference data, never in the repository)`;
  if (process.env.CI === "true") throw new Error(`CI=true and ${message}`);
  console.warn(`skipping ${message}`);
  return false;
}
