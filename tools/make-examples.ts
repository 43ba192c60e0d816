// npm run examples — writes the sample photos the README and `npm start` use (shapes-world renders, our own images).
import { writeFileSync } from "node:fs";
import { renderShapeSample } from "../shapes-world/index.ts";

const examples = [
  { file: "examples/red-circle.jpg", pair: { colour: "red", shape: "circle" }, count: 1 },
  { file: "examples/blue-stars.jpg", pair: { colour: "blue", shape: "star" }, count: 3 },
  { file: "examples/yellow-square.jpg", pair: { colour: "yellow", shape: "square" }, count: 2 },
] as const;

for (const [i, { file, pair, count }] of examples.entries()) {
  const sample = await renderShapeSample(0xe8a3, i, {
    pairs: "all",
    pair,
    count,
    width: 640,
    height: 480,
    format: "jpeg",
  });
  writeFileSync(file, sample.bytes);
  console.log(`${file}: ${sample.caption} (${sample.bytes.length} bytes)`);
}
