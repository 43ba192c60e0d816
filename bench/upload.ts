// `npm run bench:upload [-- --images 40]`: what downsizing a photo before upload (the SDK's downsizeImage rule)
// costs in embedding fidelity and saves in bytes, on fresh 2000 × 1500 renders of the shapes world, through the
// real local stack (embedded model). Figures go in docs/benchmarks.md and the SDK's README.
import { parseArgs } from "node:util";
import { ClipEdge } from "../sdk/typescript/src/index.ts";
import { startEdgeStack } from "../test/support/edge-stack.ts";
import { measureDownsizing, summarise } from "../test/support/upload-downsizing.ts";

const { values } = parseArgs({ options: { images: { type: "string", default: "40" } } });
const stack = await startEdgeStack();
try {
  const apiKey = stack.apiHeaders.authorization?.replace("Bearer ", "") ?? "";
  const clip = new ClipEdge({ apiKey, baseUrl: stack.edgeUrl });
  const samples = await measureDownsizing(clip, Number(values.images));
  const s = summarise(samples);
  const first = samples[0];
  console.log(
    `upload downsizing, ${s.images} fresh renders (2000×1500 and 1500×2000 JPEG) → short side ${first?.downsized.height} px JPEG q90`,
  );
  console.log(
    `  cosine(downsized, original): mean ${s.meanCosine.toFixed(5)}, min ${s.minCosine.toFixed(5)}`,
  );
  console.log(
    `  bytes per upload: ${Math.round(s.meanOriginalBytes).toLocaleString("en")} → ${Math.round(s.meanDownsizedBytes).toLocaleString("en")} (${(s.bytesSaved * 100).toFixed(1)} % saved, ratio ${(s.meanOriginalBytes / s.meanDownsizedBytes).toFixed(1)}×)`,
  );
} finally {
  await stack.stop();
}
