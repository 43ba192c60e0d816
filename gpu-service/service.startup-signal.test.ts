import { execFileSync, spawn } from "node:child_process";
import {
  closeSync,
  constants,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { modelPresent, TEST_MODEL_DIR, TEST_SECRET } from "../test/support/gpu-service.ts";
import { waitFor } from "../test/support/wait.ts";

const main = new URL("./main.ts", import.meta.url).pathname;
const bank = join(TEST_MODEL_DIR, "captions");

/** The FIFO's write end once the service has opened it for reading (ENXIO until then): it is blocked on it. */
function writerOnceRead(fifo: string): number | undefined {
  try {
    return openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENXIO") return undefined;
    throw error;
  }
}

describe.skipIf(!modelPresent())("GPU service: a stop signal before it is ready", () => {
  const dir = mkdtempSync(join(tmpdir(), "gpu-startup-signal-"));
  let kill = () => {};
  afterEach(() => {
    kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stops the start-up, releases what it had loaded and exits 0 on SIGTERM", async () => {
    // The caption bank's manifest is a FIFO: the start-up, model and tokenizer loaded, waits on it until the test
    // writes, so the signal lands before ready however fast or slow the machine is.
    const bankDir = join(dir, "captions");
    mkdirSync(bankDir);
    for (const file of ["embeddings.f16", "texts.txt"]) copyFileSync(join(bank, file), join(bankDir, file));
    const fifo = join(bankDir, "manifest.json");
    execFileSync("mkfifo", [fifo]);

    const child = spawn(process.execPath, [main], {
      env: {
        ...process.env,
        GPU_SHARED_SECRET: TEST_SECRET,
        MODEL_DIR: TEST_MODEL_DIR,
        CAPTION_BANK: bankDir,
        PORT: "0",
        BATCH_SIZES: "1,4",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    kill = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    };
    let output = "";
    for (const stream of [child.stdout, child.stderr])
      stream?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once("close", (code, signal) => resolve({ code, signal })),
    );

    await waitFor("the service to start", () => /gpu-service: starting \(pid \d+\)/.test(output), {
      timeoutMs: 60_000,
    });
    const writer = await waitFor("the start-up to wait on the caption manifest", () => writerOnceRead(fifo), {
      timeoutMs: 120_000,
      intervalMs: 20,
    });
    try {
      child.kill("SIGTERM");
      await waitFor(
        "the signal to be taken",
        () => /SIGTERM before ready: stopping the start-up/.test(output),
        {
          timeoutMs: 60_000,
        },
      );
      writeSync(writer, readFileSync(join(bank, "manifest.json")));
    } finally {
      closeSync(writer);
    }

    expect(await exited, output).toEqual({ code: 0, signal: null });
    expect(output).toMatch(
      /start-up stopped before ready; released the caption search, the preprocessing pool, the model\n/,
    );
    expect(output).toMatch(/gpu-service: exiting\n/);
    expect(output).not.toMatch(/listening on|ready after/);
  }, 180_000);
});
