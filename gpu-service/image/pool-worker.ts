/** Worker-thread side of pool.ts: runs the pipeline, replies with the result (pixels transferred). */
import { parentPort } from "node:worker_threads";
import { preprocessImage, preprocessImageInto } from "./pipeline.ts";
import type { PoolReply, PoolTask } from "./pool.ts";

const port = parentPort;
if (!port) throw new Error("pool-worker.ts must run as a worker thread");

port.on("message", async (task: PoolTask) => {
  let reply: PoolReply;
  try {
    if (task.shared) {
      const { buffer, byteOffset, length, offset } = task.shared;
      const out = new Float32Array(buffer, byteOffset, length);
      reply = {
        id: task.id,
        result: await preprocessImageInto(task.bytes, task.config, out, offset, task.limits, task.options),
      };
    } else {
      reply = {
        id: task.id,
        result: await preprocessImage(task.bytes, task.config, task.limits, task.options),
      };
    }
  } catch (err) {
    reply = { id: task.id, bug: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  const transfer =
    "result" in reply && reply.result.ok && "pixels" in reply.result
      ? [reply.result.pixels.buffer as ArrayBuffer]
      : [];
  port.postMessage(reply, transfer);
});
