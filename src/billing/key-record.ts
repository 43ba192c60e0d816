/** A key as administrators see it: never the key itself, never its hash. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  account: string;
  plan: string;
  status: "active" | "revoked";
  /** "clip_live_…" and the key's last four characters. */
  hint: string;
  /** ISO timestamps. `last_used_at` is approximate (written at most once a minute per isolate). */
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

/** The answer to creating a key: the record, plus the key — shown this once and never again. */
export interface CreatedApiKey extends ApiKeyRecord {
  key: string;
}

export const ACCOUNT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
export const DEFAULT_ACCOUNT = "default";
