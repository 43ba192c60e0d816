import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

/** The secrets the local stack needs; generated once, kept in the git-ignored `.dev.vars` that wrangler dev reads. */
export interface DevSecrets {
  GPU_SHARED_SECRET: string;
  ADMIN_TOKEN: string;
}

/**
 * Reads `.dev.vars`, adding any missing secret with a fresh random value, so a first `npm start` works on a clean
 * clone and later starts reuse the same secrets.
 */
export async function ensureDevVars(path: string): Promise<DevSecrets> {
  const lines = existsSync(path) ? readFileSync(path, "utf8").split("\n") : [];
  const values = new Map<string, string>();
  for (const line of lines) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) values.set(match[1] as string, match[2] as string);
  }
  let changed = false;
  for (const name of ["GPU_SHARED_SECRET", "ADMIN_TOKEN"] as const) {
    if (!values.get(name)) {
      values.set(name, randomBytes(32).toString("base64url"));
      changed = true;
    }
  }
  if (changed) {
    writeFileSync(path, `${[...values].map(([k, v]) => `${k}=${v}`).join("\n")}\n`, { mode: 0o600 });
  }
  return {
    GPU_SHARED_SECRET: values.get("GPU_SHARED_SECRET") as string,
    ADMIN_TOKEN: values.get("ADMIN_TOKEN") as string,
  };
}
