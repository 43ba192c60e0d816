// The container's entry point: with MODEL_PULL=<repo id>, makes MODEL_DIR a complete, verified copy of that model
// (gpu-service/model/pull: locked, resumed after a kill, verified files skipped, the verified folder used when the Hub
// cannot be reached) at every start, then runs the service on it. Without MODEL_PULL it is gpu-service/main.ts.
// As in main.ts, stop signals are caught first: a SIGTERM during the pull stops it (the partial file is kept) and
// exits 0. A failed pull exits 1 when a later start may succeed (the network, a busy Hub, a torn download) and 2 for
// a configuration error no restart fixes (a wrong repo, token or precision, offline with nothing verified, a model
// folder that cannot be written): orchestrators that stop restarting on 2 stop calling the Hub for nothing.
import { watchStopSignals } from "./lifecycle/stop-signals.ts";

const stops = watchStopSignals();
const env = await pullIfAsked(process.env);
const { runServiceProcess } = await import("./lifecycle/run-process.ts");
await runServiceProcess(env, stops);

/** The environment the service runs with: MODEL_DIR is where the model was pulled to. Exits when the pull fails. */
async function pullIfAsked(env: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  const log = (message: string) => console.log(`${new Date().toISOString()} ${message}`);
  const {
    createProgress,
    isRetryable,
    PULL_TIMINGS,
    pullModel,
    pullRequestFromEnv,
    unpinnedRevisionWarning,
  } = await import("./model/pull/index.ts");
  const request = pullRequestFromEnv(env);
  if (request === null) return env;
  if (!request.ok) {
    console.error(`gpu-service: ${request.error.message}`);
    process.exit(2);
  }
  const { repo, revision, dest, precision } = request.value;
  log(`gpu-service: pulling ${repo}@${revision} (${precision}) into ${dest} (pid ${process.pid})`);
  let pulling = true;
  stops.onStop((signal) => {
    if (!pulling) return; // the service's own handler drains
    log(`gpu-service: ${signal} during the model pull: stopping it`);
    // A Hub request may hold the pull up to its timeout (30 s); nothing is served yet, so nothing is owed.
    setTimeout(() => process.exit(0), 5_000).unref();
  });
  const pulled = await pullModel({
    ...request.value,
    ...PULL_TIMINGS,
    progress: createProgress(process.stderr),
    signal: stops.signal,
  });
  pulling = false;
  if (!pulled.ok && pulled.error.code === "cancelled") process.exit(0);
  if (!pulled.ok) {
    const retryable = isRetryable(pulled.error.code);
    const verdict = retryable
      ? "worth retrying: the next start resumes it"
      : "a configuration error: restarting will not help";
    console.error(`gpu-service: the model pull failed: ${pulled.error.message} (${verdict})`);
    process.exit(retryable ? 1 : 2);
  }
  const { commit, fetched, offline } = pulled.value;
  log(
    `gpu-service: ${dest} holds ${repo} at ${commit.slice(0, 7)}, verified` +
      (offline ? `, without the Hub (${offline})` : `; ${fetched} bytes fetched`),
  );
  const unpinned = unpinnedRevisionWarning(revision, commit);
  if (unpinned !== null) log(`gpu-service: warning: ${unpinned}`);
  return { ...env, MODEL_DIR: dest };
}
