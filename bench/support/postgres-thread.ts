// The benchmark's Postgres on a thread of its own: tools/local-stack/postgres.ts (PGlite + pgvector, migrated,
// served over TCP by pglite-socket) in a worker thread, so the database and the stores' client do not share one
// event loop — in production they are different machines. PGlite itself is single-threaded WASM either way.
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { startLocalPostgres } from "../../tools/local-stack/postgres.ts";

export interface BenchPostgres {
  url: string;
  stop(): Promise<void>;
}

type Reply = { url: string } | { error: string } | { stopped: true };

/**
 * @example
 * const postgres = await startPostgresThread(); // in memory, on a free port
 * const sql = postgres_js(postgres.url, { prepare: false });
 * await postgres.stop();
 */
export function startPostgresThread(dataDir?: string): Promise<BenchPostgres> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { dataDir } });
  return new Promise((resolve, reject) => {
    worker.once("error", reject);
    worker.once("message", (reply: Reply) => {
      if ("error" in reply) return reject(new Error(reply.error));
      if (!("url" in reply)) return reject(new Error("the Postgres thread answered out of turn"));
      resolve({
        url: reply.url,
        stop: () =>
          new Promise((done) => {
            worker.once("exit", () => done());
            worker.postMessage("stop");
          }),
      });
    });
  });
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const { dataDir } = workerData as { dataDir?: string };
  try {
    const postgres = await startLocalPostgres(dataDir ? { dataDir } : {});
    port.once("message", async () => {
      await postgres.stop();
      port.postMessage({ stopped: true } satisfies Reply);
      port.close();
    });
    port.postMessage({ url: postgres.url } satisfies Reply);
  } catch (error) {
    port.postMessage({ error: (error as Error).message } satisfies Reply);
    port.close();
  }
}
