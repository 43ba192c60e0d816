import { describe, expect, it } from "vitest";
import { callWorker } from "../test/support/workers/worker.ts";

describe("GET /healthz", () => {
  it("answers ok with the model and the GPU backends' circuits", async () => {
    const response = await callWorker("/healthz");
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      status: string;
      model: string;
      gpu_backends: { circuit: string }[];
    };
    expect(body.status).toBe("ok");
    expect(body.model).toBeTruthy();
    expect(body.gpu_backends[0]?.circuit).toBe("closed");
  });
});
