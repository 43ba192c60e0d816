import { join } from "node:path";
import { parseArgs } from "node:util";
import type { ExecutionProvider, Precision } from "../../gpu-service/model/index.ts";

export const USAGE = `Usage: npm run captions:build -- --corpus FILE [options]

Embeds every caption of FILE with the model's text encoder and writes a caption bank (docs/captions.md).
FILE holds one caption per line, or JSON lines ({"text": "..."} each) when it ends in .jsonl or .ndjson.
Blank lines and repeated captions are skipped; a caption containing a line break is refused.

Options:
  --model DIR        model folder (default: models/tiny-clip)
  --out DIR          bank folder to write (default: <model>/captions, where the service looks);
                     replaced atomically when the build succeeds
  --batch N          captions per encoder run (default: 64)
  --providers LIST   ONNX Runtime providers, e.g. cuda,cpu (default: cpu)
  --precision P      text encoder variant: fp32, fp16 or quantized (default: fp32)
  --threads N        CPU threads for the encoder (default: ONNX Runtime's choice)
  --help             this text`;

export interface BuildArgs {
  corpus: string;
  modelDir: string;
  outDir: string;
  batchSize: number;
  providers: ExecutionProvider[];
  precision: Precision;
  threads: number | undefined;
}

const PROVIDERS: readonly string[] = ["cuda", "tensorrt", "cpu", "coreml", "dml", "webgpu"];

/**
 * Reads the command line; problems come back as one-line messages.
 *
 * @example parseBuildArgs(["--corpus", "c.txt"]) → { ok: true, value: { corpus: "c.txt", outDir: "models/tiny-clip/captions", … } }
 */
export function parseBuildArgs(
  argv: string[],
): { ok: true; value: BuildArgs | { help: true } } | { ok: false; message: string } {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        corpus: { type: "string" },
        model: { type: "string", default: "models/tiny-clip" },
        out: { type: "string" },
        batch: { type: "string", default: "64" },
        providers: { type: "string", default: "cpu" },
        precision: { type: "string", default: "fp32" },
        threads: { type: "string" },
        help: { type: "boolean", default: false },
      },
    }));
  } catch (error) {
    return { ok: false, message: `${(error as Error).message} (see --help)` };
  }
  if (values.help) return { ok: true, value: { help: true } };
  const corpus = values.corpus as string | undefined;
  if (!corpus) return { ok: false, message: "--corpus FILE is required (see --help)" };
  const modelDir = values.model as string;
  const batchSize = Number(values.batch);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 4096)
    return { ok: false, message: `--batch must be an integer in 1..4096, got "${values.batch}"` };
  const providers = String(values.providers)
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  const unknown = providers.find((p) => !PROVIDERS.includes(p));
  if (unknown || providers.length === 0)
    return { ok: false, message: `--providers: unknown provider "${unknown ?? ""}" (known: ${PROVIDERS})` };
  const precision = values.precision as string;
  if (precision !== "fp32" && precision !== "fp16" && precision !== "quantized")
    return { ok: false, message: `--precision must be fp32, fp16 or quantized, got "${precision}"` };
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= 1024))
    return { ok: false, message: `--threads must be an integer in 1..1024, got "${values.threads}"` };
  return {
    ok: true,
    value: {
      corpus,
      modelDir,
      outDir: (values.out as string | undefined) ?? join(modelDir, "captions"),
      batchSize,
      providers: providers as ExecutionProvider[],
      precision,
      threads,
    },
  };
}
