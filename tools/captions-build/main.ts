import { basename } from "node:path";
import {
  CaptionBankWriter,
  embeddingsBytes,
  fileSha256,
  vocabularySha256,
} from "../../gpu-service/captions/index.ts";
import { ClipModel, ModelFolderError } from "../../gpu-service/model/index.ts";
import { loadClipVocabulary } from "../../gpu-service/model/tokenizer-files.ts";
import { ClipTokenizer, VocabularyError } from "../../src/tokenizer/index.ts";
import { parseBuildArgs, USAGE } from "./args.ts";
import { readCorpus } from "./corpus.ts";
import { embedCaptions } from "./embed-captions.ts";
import { createProgressBar, type ProgressStream } from "./progress.ts";

export interface Io {
  stdout: ProgressStream;
  stderr: ProgressStream;
}

/**
 * `npm run captions:build` without the process: returns the exit code (0 built, 1 failed with a one-line reason on
 * stderr, 2 bad arguments). Progress goes to stderr, the summary to stdout.
 *
 * @example process.exitCode = await main(["--corpus", "captions.txt"], process)
 */
export async function main(argv: string[], io: Io): Promise<number> {
  const args = parseBuildArgs(argv);
  if (!args.ok) {
    io.stderr.write(`captions:build: ${args.message}\n`);
    return 2;
  }
  if ("help" in args.value) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { corpus: corpusPath, modelDir, outDir, batchSize, providers, precision, threads } = args.value;
  const started = performance.now();
  const fail = (message: string) => {
    io.stderr.write(`captions:build: ${message}\n`);
    return 1;
  };

  const read = await readCorpus(corpusPath);
  if (!read.ok) return fail(read.message);
  const { corpus } = read;

  let model: ClipModel;
  let tokenizer: ClipTokenizer;
  let tokenizerSha256: string;
  try {
    const vocabulary = await loadClipVocabulary(modelDir);
    tokenizer = new ClipTokenizer(vocabulary);
    tokenizerSha256 = vocabularySha256(vocabulary);
    model = await ClipModel.load(modelDir, {
      providers,
      precision,
      intraOpThreads: threads,
      log: (message) => io.stderr.write(`captions:build: ${message}\n`),
    });
  } catch (error) {
    if (error instanceof ModelFolderError || error instanceof VocabularyError) return fail(error.message);
    throw error;
  }

  let writer: CaptionBankWriter | undefined;
  try {
    writer = await CaptionBankWriter.create(outDir, {
      dim: model.embeddingDim,
      model: {
        id: model.folder.id,
        tokenizerSha256,
        textEncoder: {
          precision: model.folder.precision,
          sha256: await fileSha256(model.folder.textModelPath),
        },
      },
    });
    const bar = createProgressBar(io.stderr, "captions", corpus.texts.length);
    bar.update(0);
    const { truncated } = await embedCaptions({
      texts: corpus.texts,
      model,
      tokenizer,
      writer,
      batchSize,
      onProgress: (done) => bar.update(done),
    });
    const manifest = await writer.commit({
      file: basename(corpusPath),
      lines: corpus.lines,
      duplicates: corpus.duplicates,
      truncated,
    });
    const seconds = (performance.now() - started) / 1000;
    bar.end(`${manifest.count} embedded in ${seconds.toFixed(1)} s`);
    const bytes = embeddingsBytes(manifest.count, manifest.dim);
    const size = bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;
    io.stdout.write(
      [
        `Built a caption bank of ${manifest.count} captions (${manifest.dim}-dim float16, ${size}) in ${writer.dir}`,
        `  from ${corpusPath}: ${corpus.lines} lines, ${corpus.duplicates} repeats dropped, ` +
          `${truncated} cut to the ${model.folder.contextLength}-token context`,
        `  model ${manifest.model.id} (${manifest.model.textEncoder.precision} text encoder) on [${model.providers}]`,
        "",
      ].join("\n"),
    );
    return 0;
  } catch (error) {
    await writer?.abort();
    return fail(`the build failed, nothing was replaced: ${(error as Error).message}`);
  } finally {
    await model.release();
  }
}
