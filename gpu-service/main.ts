// The GPU service's entry point: `node gpu-service/main.ts` (configuration from the environment; see README.md).
// Stop signals are caught before anything heavy loads (onnxruntime, sharp, the model), so a SIGTERM at any moment of
// the start-up ends in exit 0 rather than in the default action's kill.
import { watchStopSignals } from "./lifecycle/stop-signals.ts";

const stops = watchStopSignals();
const { runServiceProcess } = await import("./lifecycle/run-process.ts");
await runServiceProcess(process.env, stops);
