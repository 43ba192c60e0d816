import { readFile, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { type PreprocessConfig, readPreprocessConfig } from "../image/config.ts";
import { readCompleteMarker, STATE_DIR } from "./pull/manifest.ts";

export type Precision = "fp32" | "fp16" | "quantized";

/** A CLIP model folder in the Hugging Face/Xenova ONNX layout, read and checked. */
export interface ModelFolder {
  dir: string;
  /** A stable name for responses and cache keys: config `_name_or_path` when present, else the folder name. */
  id: string;
  precision: Precision;
  textModelPath: string;
  visionModelPath: string;
  embeddingDim: number;
  contextLength: number;
  imageSize: number;
  /** exp(config.logit_scale), the multiplier applied to cosine similarities before the softmax (100 for OpenAI). */
  logitScale: number;
  preprocess: PreprocessConfig;
  /** preprocessor_config.json as read, for reporting the exact settings. */
  preprocessorConfig: Record<string, unknown>;
}

/** A model folder that cannot be served; the message names the file and the problem. */
export class ModelFolderError extends Error {
  override name = "ModelFolderError";
  readonly file: string;
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.file = file;
  }
}

const SUFFIX: Record<Precision, string> = { fp32: "", fp16: "_fp16", quantized: "_quantized" };

/**
 * Reads `config.json` and `preprocessor_config.json` and finds the two ONNX encoders for the wanted precision
 * (`onnx/text_model{,_fp16,_quantized}.onnx`); a missing variant falls back to fp32, which `onFallback` reports.
 *
 * A folder a pull wrote into (it has `.pull/`) must also hold that pull's "complete" marker for the precision loaded:
 * without it the pull was interrupted, and its files, each verified, may come from two commits. A folder with no
 * `.pull/` (assembled by hand, like models/tiny-clip) is taken as it is.
 *
 * @example const folder = await readModelFolder("models/tiny-clip"); folder.embeddingDim
 */
export async function readModelFolder(
  dir: string,
  options: {
    precision?: Precision;
    onFallback?: (message: string) => void;
    /** The pull checking the folder it is completing, before it writes the marker. */
    duringPull?: boolean;
  } = {},
): Promise<ModelFolder> {
  const root = resolve(dir);
  if (!(await isDirectory(root)))
    throw new ModelFolderError(root, "is not a model folder (no such directory)");
  const config = await readJson(join(root, "config.json"));
  const preprocessorPath = join(root, "preprocessor_config.json");
  const preprocessorConfig = await readJson(preprocessorPath);
  const textConfig = objectField(config, "text_config", join(root, "config.json"));
  const visionConfig = objectField(config, "vision_config", join(root, "config.json"));
  const configFile = join(root, "config.json");
  if (config.model_type !== "clip")
    throw new ModelFolderError(configFile, `model_type is ${JSON.stringify(config.model_type)}, not "clip"`);

  let preprocess: PreprocessConfig;
  try {
    preprocess = readPreprocessConfig(preprocessorConfig);
  } catch (error) {
    throw new ModelFolderError(preprocessorPath, (error as Error).message);
  }

  const wanted = options.precision ?? "fp32";
  let precision = wanted;
  const encoder = (name: string, p: Precision) => join(root, "onnx", `${name}${SUFFIX[p]}.onnx`);
  if (
    wanted !== "fp32" &&
    !((await isFile(encoder("text_model", wanted))) && (await isFile(encoder("vision_model", wanted))))
  ) {
    options.onFallback?.(`${root} has no ${wanted} encoders (onnx/*${SUFFIX[wanted]}.onnx); using fp32`);
    precision = "fp32";
  }
  for (const name of ["text_model", "vision_model"]) {
    if (!(await isFile(encoder(name, precision))))
      throw new ModelFolderError(encoder(name, precision), "is missing");
  }
  if (!options.duringPull) await checkPullFinished(root, precision);

  const logitScale = logOfLogitScale(config, configFile);
  return {
    dir: root,
    id:
      typeof config._name_or_path === "string" && config._name_or_path !== ""
        ? config._name_or_path
        : basename(root),
    precision,
    textModelPath: encoder("text_model", precision),
    visionModelPath: encoder("vision_model", precision),
    embeddingDim: integerField(config, "projection_dim", configFile),
    contextLength: integerField(textConfig, "max_position_embeddings", `${configFile} text_config`),
    imageSize: integerField(visionConfig, "image_size", `${configFile} vision_config`),
    logitScale: Math.exp(logitScale),
    preprocess,
    preprocessorConfig,
  };
}

async function checkPullFinished(root: string, precision: Precision): Promise<void> {
  if (!(await isDirectory(join(root, STATE_DIR)))) return;
  if ((await readCompleteMarker(root, precision)) !== null) return;
  throw new ModelFolderError(
    root,
    `a model pull into this folder did not finish (${STATE_DIR}/complete-${precision}.json is missing), so its ` +
      "files may mix two commits; run the pull again (npm run model:pull, or MODEL_PULL) before serving it",
  );
}

async function readJson(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new ModelFolderError(file, "is missing");
  }
  try {
    const value = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value))
      throw new Error("not a JSON object");
    return value;
  } catch (error) {
    throw new ModelFolderError(file, `is not valid JSON (${(error as Error).message})`);
  }
}

function objectField(json: Record<string, unknown>, field: string, file: string): Record<string, unknown> {
  const value = json[field];
  if (typeof value !== "object" || value === null) throw new ModelFolderError(file, `has no ${field} object`);
  return value as Record<string, unknown>;
}

function integerField(json: Record<string, unknown>, field: string, file: string): number {
  const value = json[field];
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new ModelFolderError(file, `${field} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** ln(100): every OpenAI CLIP checkpoint ends training with its scale clamped at 100. */
export const OPENAI_LOG_LOGIT_SCALE = Math.log(100);

// The trained scale lives in the weights, not in Hugging Face's config (whose `logit_scale_init_value` is the value
// training *started* from, ln(1/0.07)), and the split text/vision exports drop it. Our exports write it as
// `logit_scale`; for a folder without it we use OpenAI's trained value.
function logOfLogitScale(config: Record<string, unknown>, file: string): number {
  const value = config.logit_scale ?? OPENAI_LOG_LOGIT_SCALE;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 10) {
    throw new ModelFolderError(
      file,
      `logit_scale must be a number in [0, 10] (a log), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}
