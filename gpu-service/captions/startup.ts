import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { ServiceConfig } from "../config.ts";
import { type ClipEncoders, ModelFolderError } from "../model/index.ts";
import { type BankError, type BankErrorCode, openCaptionBank } from "./bank.ts";
import { MANIFEST_FILE } from "./bank-format.ts";
import { CaptionFinder } from "./caption-finder.ts";
import { fileSha256, tokenizerSha256 } from "./fingerprint.ts";
import { checkBankModel } from "./model-match.ts";
import { BankSearchSession } from "./search-session.ts";

/** The folder a model's own caption bank lives in when CAPTION_BANK does not name one. */
export const DEFAULT_BANK_FOLDER = "captions";

/** A caption bank that cannot be served; a ModelFolderError, so the entry point reports it in one line. */
export class CaptionBankError extends ModelFolderError {
  override name = "CaptionBankError";
  readonly code: BankErrorCode;
  constructor(dir: string, error: BankError) {
    super(dir, error.message);
    this.code = error.code;
    this.message = `caption bank: ${error.message}`;
  }
}

/**
 * The service's caption search, or undefined when it has no bank: CAPTION_BANK names one, else `<MODEL_DIR>/captions`
 * is used when it exists. A bank that is broken or belongs to another model stops the start-up with a
 * CaptionBankError; nothing is served half-checked.
 *
 * @example const captions = await openCaptionFinder(config, model, log); await captions?.warmUp([1, 64]);
 */
export async function openCaptionFinder(
  config: ServiceConfig,
  model: ClipEncoders,
  log: (message: string) => void,
): Promise<CaptionFinder | undefined> {
  const started = performance.now();
  if (config.captionBankDir === false) {
    log("gpu-service: captions are off (CAPTION_BANK=off); /v1/captions answers 404");
    return undefined;
  }
  const dir = config.captionBankDir ?? (await defaultBankDir(config.modelDir));
  if (!dir) {
    log(
      `gpu-service: no caption bank (${join(config.modelDir, DEFAULT_BANK_FOLDER)} is absent); /v1/captions answers 404`,
    );
    return undefined;
  }
  const opened = await openCaptionBank(dir);
  if (!opened.ok) throw new CaptionBankError(dir, opened);
  const { bank } = opened;
  const [tokenizer, textEncoder] = await Promise.all([
    tokenizerSha256(model.folder.dir),
    fileSha256(model.folder.textModelPath),
  ]);
  const match = checkBankModel(bank.manifest, {
    id: model.folder.id,
    dim: model.embeddingDim,
    tokenizerSha256: tokenizer,
    textEncoder: { precision: model.folder.precision, sha256: textEncoder },
  });
  if (!match.ok) {
    const rebuild = `npm run captions:build -- --corpus FILE --model ${config.modelDir} --out ${dir}`;
    const message = `${join(bank.dir, MANIFEST_FILE)}: ${match.message} (${rebuild}; docs/captions.md)`;
    throw new CaptionBankError(dir, { ...match, message });
  }
  for (const note of match.notes) log(`gpu-service: caption bank ${bank.dir}: ${note}`);

  const session = await BankSearchSession.create(
    { kind: "file", dir: bank.dir, count: bank.count, dim: bank.dim },
    { providers: model.providers, intraOpThreads: config.intraOpThreads, log },
  );
  log(
    `gpu-service: caption bank ${bank.dir}: ${bank.count} captions, searched in ${session.compute} on [${session.providers}] ` +
      `(loaded in ${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
  return new CaptionFinder(session, bank.texts, {
    maxBatchSize: Math.max(...config.batchSizes),
    maxWaitMs: config.maxWaitMs,
    maxQueue: config.maxQueue,
  });
}

async function defaultBankDir(modelDir: string): Promise<string | undefined> {
  const dir = join(modelDir, DEFAULT_BANK_FOLDER);
  return stat(dir).then(
    (s) => (s.isDirectory() ? dir : undefined),
    () => undefined,
  );
}
