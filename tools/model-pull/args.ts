import { join } from "node:path";
import { parseArgs } from "node:util";
import { PRECISIONS, type Precision } from "./layout.ts";
import { failure, type Outcome } from "./outcome.ts";

export const USAGE = `Usage: npm run model:pull -- <repo id> [options]

Downloads a CLIP ONNX export in the Hugging Face/Xenova layout (config, tokenizer and both encoders of one
precision) into a model folder the GPU service can serve. Interrupted downloads resume when run again.

  <repo id>              e.g. Xenova/clip-vit-base-patch32
  --revision R           branch, tag or commit (default: main)
  --dest DIR             destination folder (default: models/<repo name>, which git ignores)
  --precision P          fp32 | fp16 | quantized (default: fp32); fails if the repo lacks that precision
  --hub-url URL          Hub to download from (default: $HF_ENDPOINT, else https://huggingface.co)
  --retries N            extra attempts per interrupted file, each resuming (default: 3)
  -h, --help             this text

Environment: HF_TOKEN (an hf_... token, for private or gated repos), HF_ENDPOINT.`;

export interface PullArgs {
  repo: string;
  revision: string;
  dest: string;
  precision: Precision;
  hubUrl: string;
  accessToken?: string;
  retries: number;
}

/**
 * Reads the command line and environment. `{ help: true }` when help was asked for.
 *
 * @example parsePullArgs(["Xenova/clip-vit-base-patch32", "--precision", "fp16"], {}) // dest models/clip-vit-base-patch32
 */
export function parsePullArgs(
  argv: string[],
  env: Record<string, string | undefined>,
): Outcome<PullArgs | { help: true }> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    return failure("usage", `${(error as Error).message.split("\n")[0]} (see --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) return { ok: true, value: { help: true } };
  if (positionals.length !== 1)
    return failure("usage", "expected one repo id, e.g. npm run model:pull -- Xenova/clip-vit-base-patch32");
  const repo = positionals[0] as string;
  if (!/^[\w.-]+\/[\w.-]+$/.test(repo))
    return failure("usage", `"${repo}" is not a model repo id of the form owner/name`);

  const precision = values.precision ?? "fp32";
  if (!PRECISIONS.includes(precision as Precision))
    return failure("usage", `--precision must be one of ${PRECISIONS.join(", ")}, got "${precision}"`);

  const hubUrl = (values["hub-url"] ?? env.HF_ENDPOINT ?? "https://huggingface.co").replace(/\/+$/, "");
  if (!URL.canParse(hubUrl) || !/^https?:$/.test(new URL(hubUrl).protocol))
    return failure("usage", `the hub URL must be an http(s) URL, got "${hubUrl}"`);

  const retries = Number(values.retries ?? "3");
  if (!Number.isInteger(retries) || retries < 0 || retries > 100)
    return failure("usage", `--retries must be an integer in 0..100, got "${values.retries}"`);

  const accessToken = env.HF_TOKEN?.trim() || undefined;
  // The hub library rejects other tokens with a TypeError; say it here, without echoing the token.
  if (accessToken !== undefined && !accessToken.startsWith("hf_"))
    return failure("bad-token", "HF_TOKEN is set but is not a Hugging Face token (they start with hf_)");

  return {
    ok: true,
    value: {
      repo,
      revision: values.revision ?? "main",
      dest: values.dest ?? join("models", repo.split("/")[1] as string),
      precision: precision as Precision,
      hubUrl,
      accessToken,
      retries,
    },
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      revision: { type: "string" },
      dest: { type: "string" },
      precision: { type: "string" },
      "hub-url": { type: "string" },
      retries: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}
