import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeStack, startEdgeStack } from "../support/edge-stack.ts";
import { loopbackHostNames } from "../support/etc-hosts.ts";
import { modelPresent } from "../support/gpu-service.ts";
import { type CountingServer, selfSignedCertificate, startHttpsServer } from "../support/tls-server.ts";

/**
 * Image URLs through the whole product — the Worker in workerd, the real GPU service fetching — with the production
 * policy (no URL_FETCH_ALLOW): nothing a caller names may reach this machine, however the name is spelt. A real
 * HTTPS listener on loopback counts every connection it gets; it must get none.
 */
describe.skipIf(!modelPresent())("image URLs never reach this machine (SSRF)", () => {
  let stack: EdgeStack;
  let listener: CountingServer;
  beforeAll(async () => {
    [stack, listener] = await Promise.all([
      startEdgeStack(),
      startHttpsServer(
        selfSignedCertificate(["127.0.0.1"]),
        (_, response) => response.end("secret"),
        "127.0.0.1",
      ),
    ]);
  }, 180_000);
  afterAll(async () => {
    await listener?.close();
    await stack?.stop();
  });

  async function classifyUrl(url: string): Promise<{ status: number; code: string; detail: string }> {
    const response = await fetch(`${stack.edgeUrl}/v1/classify`, {
      method: "POST",
      headers: { "content-type": "application/json", ...stack.apiHeaders },
      body: JSON.stringify({ images: [{ url }], labels: ["red circle", "blue star"] }),
    });
    const body = (await response.json()) as { code: string; detail: string };
    return { status: response.status, code: body.code, detail: body.detail };
  }

  it("refuses every host name the hosts file maps to loopback, without connecting", async () => {
    const names = loopbackHostNames();
    expect(names).toContain("localhost");
    for (const name of names) {
      const answer = await classifyUrl(`https://${name}:${listener.port}/cat.jpg`);
      expect(answer, name).toMatchObject({ status: 400, code: "invalid_image_url" });
    }
    expect(listener.connections).toBe(0);
  });

  it("refuses the GPU tier's own port by any name, and the edge's own host", async () => {
    const gpuPort = new URL(stack.gpu.url).port;
    for (const name of [...loopbackHostNames(), "127.0.0.1"]) {
      const answer = await classifyUrl(`https://${name}:${gpuPort}/v1/embed/images`);
      expect(answer, name).toMatchObject({ status: 400, code: "invalid_image_url" });
    }
    const own = new URL(stack.edgeUrl);
    expect(await classifyUrl(`https://${own.hostname}:${own.port}/v1/models`)).toMatchObject({ status: 400 });
  });

  it("refuses loopback, private, metadata and mapped addresses in every spelling, without connecting", async () => {
    const port = listener.port;
    const spellings = [
      `https://127.0.0.1:${port}/`,
      `https://2130706433:${port}/`,
      `https://0x7f.1:${port}/`,
      `https://017700000001:${port}/`,
      `https://127.1:${port}/`,
      `https://[::1]:${port}/`,
      `https://[::ffff:127.0.0.1]:${port}/`,
      `https://[::ffff:7f00:1]:${port}/`,
      `https://[64:ff9b::7f00:1]:${port}/`,
      `https://[2002:7f00:1::]:${port}/`,
      `https://0.0.0.0:${port}/`,
      "https://169.254.169.254/latest/meta-data/",
      "https://[fd00:ec2::254]/latest/meta-data/",
      "https://10.0.0.1/",
      "https://100.64.0.1/",
      "https://192.168.1.1/",
      "https://[fe80::1]/",
      "https://224.0.0.1/",
    ];
    for (const url of spellings)
      expect(await classifyUrl(url), url).toMatchObject({ status: 400, code: "invalid_image_url" });
    expect(listener.connections).toBe(0);
  });

  it("is never billed for a refused URL", async () => {
    const usage = await fetch(`${stack.edgeUrl}/v1/usage`, { headers: stack.apiHeaders });
    expect(((await usage.json()) as { totals: { requests: number } }).totals.requests).toBe(0);
  });
});
