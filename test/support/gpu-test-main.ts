// The GPU service as the Worker tests run it: production's entry (gpu-service/main.ts) plus one image host reachable
// by name. CLIP_TEST_IMAGE_HOST=images.test=127.0.0.2 and CLIP_TEST_IMAGE_HOST_CA=<pem file> are read here, and only
// here — the production entry knows neither — and become an injected image fetcher that resolves that one name to
// that one address and trusts that address and certificate alone; every other URL meets the production rules.
// Started by test/support/gpu-process.ts: startGpuProcess(env, { imageHost }).
import { readFileSync } from "node:fs";
import { watchStopSignals } from "../../gpu-service/lifecycle/stop-signals.ts";

const stops = watchStopSignals();
const [{ runServiceProcess }, { createImageFetcher }, { imageFetcherOptions }, { resolvingTestNames }] =
  await Promise.all([
    import("../../gpu-service/lifecycle/run-process.ts"),
    import("../../gpu-service/fetch/index.ts"),
    import("../../gpu-service/service.ts"),
    import("./resolvers.ts"),
  ]);

const [name, address] = (process.env.CLIP_TEST_IMAGE_HOST ?? "").split("=");
const caFile = process.env.CLIP_TEST_IMAGE_HOST_CA;
if (!name || !address || !caFile) {
  console.error(
    "gpu-test-main: CLIP_TEST_IMAGE_HOST=<name>=<address> and CLIP_TEST_IMAGE_HOST_CA=<file> are required",
  );
  process.exit(2);
}
const ca = readFileSync(caFile, "utf8");

await runServiceProcess(process.env, stops, {
  imageFetcher: (config) =>
    createImageFetcher({
      ...imageFetcherOptions(config),
      resolve: resolvingTestNames({ [name]: address }),
      trust: { addresses: [address], ca },
    }),
});
