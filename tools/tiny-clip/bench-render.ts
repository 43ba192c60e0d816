/**
 * Measures shapes-world renders per second on one thread, at the training sizes and at phone sizes.
 *
 * Usage: node tools/tiny-clip/bench-render.ts [--count 200]
 */
import { parseArgs } from "node:util";
import sharp from "sharp";
import { type RenderOptions, renderShapeSample } from "../../shapes-world/index.ts";

const { values } = parseArgs({ options: { count: { type: "string", default: "200" } } });
const count = Number(values.count);
sharp.concurrency(1);

async function measure(label: string, n: number, options: RenderOptions): Promise<void> {
  await renderShapeSample(0, 0, options);
  const started = performance.now();
  let bytes = 0;
  for (let i = 1; i <= n; i++) bytes += (await renderShapeSample(0, i, options)).bytes.length;
  const seconds = (performance.now() - started) / 1000;
  console.log(`${label}: ${(n / seconds).toFixed(1)} renders/s (mean ${(bytes / n / 1024).toFixed(0)} KiB)`);
}

await measure("default (short side 224–480, JPEG or PNG)", count, { pairs: "all" });
await measure("1 MP JPEG", Math.ceil(count / 8), { pairs: "all", megapixels: 1, format: "jpeg" });
await measure("12 MP JPEG", Math.ceil(count / 40), { pairs: "all", megapixels: 12, format: "jpeg" });
