import { InferenceSession, type Tensor } from "onnxruntime-node";
import { ModelFolderError } from "./model-folder.ts";

export type ExecutionProvider = "cuda" | "cpu" | "tensorrt" | "coreml" | "dml" | "webgpu";

/** How to run sessions, from config (ORT_PROVIDERS, ORT_GRAPH_OPTIMIZATION, ORT_INTRA_OP_THREADS, ...). */
export interface RuntimeOptions {
  /** In order of preference. The CPU is used only if listed: a GPU deployment that lists only `cuda` fails loudly. */
  providers: ExecutionProvider[];
  graphOptimization?: "disabled" | "basic" | "extended" | "all";
  intraOpThreads?: number;
  /** Above 1, the session runs independent graph branches in parallel on this many threads. */
  interOpThreads?: number;
  /** Let idle intra-op threads spin (ORT's default); off frees the cores for preprocessing between operators. */
  spinIntraOpThreads?: boolean;
}

/** What an encoder must declare: its one input and one output, with their element types. */
export interface EncoderSignature {
  input: { name: string; type: Tensor.Type };
  output: { name: string; type: Tensor.Type };
}

export interface LoadedSession {
  session: InferenceSession;
  /** The providers the session really runs on. */
  providers: ExecutionProvider[];
}

/**
 * Creates an ONNX Runtime session and checks the encoder's declared input and output. When the preferred providers
 * cannot be created and `cpu` is listed, falls back to the CPU and says so through `log` — never silently.
 */
export async function loadSession(
  path: string,
  signature: EncoderSignature,
  options: RuntimeOptions,
  log: (message: string) => void,
): Promise<LoadedSession> {
  const sessionOptions = (providers: ExecutionProvider[]): InferenceSession.SessionOptions => ({
    executionProviders: providers,
    graphOptimizationLevel: options.graphOptimization ?? "all",
    ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
    ...(options.interOpThreads && options.interOpThreads > 1
      ? { interOpNumThreads: options.interOpThreads, executionMode: "parallel" as const }
      : {}),
    ...(options.spinIntraOpThreads === false
      ? { extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } } }
      : {}),
  });
  let loaded: LoadedSession;
  try {
    loaded = {
      session: await InferenceSession.create(path, sessionOptions(options.providers)),
      providers: options.providers,
    };
  } catch (error) {
    const reason = firstLine(error);
    const canFallBack = options.providers.includes("cpu") && options.providers.some((p) => p !== "cpu");
    if (!canFallBack)
      throw new ModelFolderError(path, `cannot be loaded with providers [${options.providers}]: ${reason}`);
    log(
      `WARNING: providers [${options.providers}] failed for ${path} (${reason}); falling back to the CPU as ORT_PROVIDERS allows`,
    );
    try {
      loaded = { session: await InferenceSession.create(path, sessionOptions(["cpu"])), providers: ["cpu"] };
    } catch (cpuError) {
      throw new ModelFolderError(path, `cannot be loaded: ${firstLine(cpuError)}`);
    }
  }
  checkSignature(loaded.session, path, signature);
  return loaded;
}

function checkSignature(session: InferenceSession, path: string, signature: EncoderSignature): void {
  for (const [kind, expected, declared] of [
    ["input", signature.input, session.inputMetadata],
    ["output", signature.output, session.outputMetadata],
  ] as const) {
    const found = declared.find((m) => m.name === expected.name);
    if (!found) {
      const names = declared.map((m) => m.name).join(", ");
      throw new ModelFolderError(path, `has no ${kind} named "${expected.name}" (it declares: ${names})`);
    }
    if (!found.isTensor || found.type !== expected.type) {
      const type = found.isTensor ? found.type : "a non-tensor";
      throw new ModelFolderError(path, `${kind} "${expected.name}" is ${type}, expected ${expected.type}`);
    }
  }
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split("\n")[0] ?? "unknown error";
}
