/**
 * Writes exactly the tensor the model is fed, for inspection and for other checks to call:
 *
 *   npm run --silent preprocess -- IMAGE --out OUT.f32 [--png OUT.png] [--model DIR] [--exact]
 *
 * OUT.f32 is float32 CHW [3, H, W], little-endian. OUT.png is that tensor de-normalised back to 8-bit
 * RGB (what the model "sees"). DIR holds the model's preprocessor_config.json (default models/tiny-clip;
 * until that model exists, the standard CLIP config in defaults/ is used, with a note on stderr).
 * stdout: one JSON line describing the result. Exit codes: 0 ok, 1 usage or config error, 2 image error.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import sharp from "sharp";
import { type PreprocessConfig, readPreprocessConfig } from "./config.ts";
import { chwToRgb } from "./normalize.ts";
import { preprocessImage } from "./pipeline.ts";

const DEFAULT_MODEL_DIR = "models/tiny-clip";
const DEFAULT_CONFIG = path.join(import.meta.dirname, "defaults", "preprocessor_config.json");
const USAGE = "usage: preprocess IMAGE --out OUT.f32 [--png OUT.png] [--model DIR] [--exact]";

function loadConfig(modelDir: string): PreprocessConfig {
  const file = path.join(modelDir, "preprocessor_config.json");
  if (fs.existsSync(file)) return readPreprocessConfig(JSON.parse(fs.readFileSync(file, "utf8")));
  process.stderr.write(
    `preprocess: ${file} not found; using the standard CLIP config (${path.relative(process.cwd(), DEFAULT_CONFIG)})\n`,
  );
  return readPreprocessConfig(JSON.parse(fs.readFileSync(DEFAULT_CONFIG, "utf8")));
}

/** The tensor's bytes, little-endian whatever the host's order. */
function littleEndianBytes(pixels: Float32Array): Uint8Array {
  const bytes = new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  if (os.endianness() === "LE") return bytes;
  const out = Buffer.alloc(pixels.byteLength);
  for (let i = 0; i < pixels.length; i++) out.writeFloatLE(pixels[i] as number, i * 4);
  return out;
}

async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parse>;
  const parse = (a: string[]) =>
    parseArgs({
      args: a,
      allowPositionals: true,
      options: {
        out: { type: "string" },
        png: { type: "string" },
        model: { type: "string", default: DEFAULT_MODEL_DIR },
        exact: { type: "boolean", default: false },
      },
    });
  try {
    args = parse(argv);
  } catch (err) {
    process.stderr.write(`preprocess: ${(err as Error).message}\n${USAGE}\n`);
    return 1;
  }
  const [image, ...extra] = args.positionals;
  if (!image || extra.length > 0 || !args.values.out) {
    process.stderr.write(`${USAGE}\n`);
    return 1;
  }

  let config: PreprocessConfig;
  try {
    config = loadConfig(path.resolve(args.values.model));
  } catch (err) {
    process.stderr.write(`preprocess: ${(err as Error).message}\n`);
    return 1;
  }

  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(image);
  } catch (err) {
    process.stderr.write(`preprocess: cannot read ${image}: ${(err as Error).message}\n`);
    return 1;
  }

  const result = await preprocessImage(bytes, config, undefined, { exact: args.values.exact });
  if (!result.ok) {
    process.stderr.write(`preprocess: ${result.code}: ${result.message}\n`);
    process.stdout.write(`${JSON.stringify({ ok: false, code: result.code, message: result.message })}\n`);
    return 2;
  }

  const { outputWidth: w, outputHeight: h } = config;
  fs.writeFileSync(args.values.out, littleEndianBytes(result.pixels));
  if (args.values.png) {
    const rgb = chwToRgb(result.pixels, w, h, config);
    await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toFile(args.values.png);
  }
  const { info } = result;
  process.stdout.write(
    `${JSON.stringify({
      ok: true,
      out: args.values.out,
      shape: [3, h, w],
      format: info.format,
      source: [info.width, info.height],
      orientation: info.orientation,
      path: info.path,
    })}\n`,
  );
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
