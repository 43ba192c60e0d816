import * as z from "zod";

const iso = z.iso.datetime().meta({ description: "ISO 8601 timestamp (UTC)." });

/** A key as administrators see it: never the key itself, never its hash. */
export const ApiKeyRecord = z
  .object({
    id: z.string(),
    name: z.string(),
    account: z.string(),
    plan: z.string(),
    status: z.enum(["active", "revoked"]),
    hint: z.string().meta({ description: '"clip_live_…" and the key\'s last four characters.' }),
    created_at: iso,
    revoked_at: iso.nullable(),
    last_used_at: iso
      .nullable()
      .meta({ description: "Approximate: written at most once a minute per isolate." }),
  })
  .meta({ id: "ApiKeyRecord" });
export type ApiKeyRecord = z.infer<typeof ApiKeyRecord>;

/** The answer to creating a key: the record, plus the key — shown this once and never again. */
export const CreatedApiKey = ApiKeyRecord.extend({
  key: z.string().meta({ description: "The key itself. Shown this once: only its SHA-256 is stored." }),
}).meta({ id: "CreatedApiKey" });
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;

export const ACCOUNT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
export const DEFAULT_ACCOUNT = "default";
