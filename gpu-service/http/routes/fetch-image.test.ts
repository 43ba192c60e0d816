import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loopbackHostNames } from "../../../test/support/etc-hosts.ts";
import { modelPresent, signedPost, startTestService } from "../../../test/support/gpu-service.ts";
import {
  type CountingServer,
  selfSignedCertificate,
  startHttpsServer,
} from "../../../test/support/tls-server.ts";
import type { RunningService } from "../../service.ts";
import type { FetchImageRequest } from "./fetch-image.ts";

const MAX_IMAGE_BYTES = 1_000_000;

describe.skipIf(!modelPresent())("POST /v1/fetch-image through the real service", () => {
  let service: RunningService;
  let loopback: CountingServer;
  beforeAll(async () => {
    [service, loopback] = await Promise.all([
      startTestService({ MAX_IMAGE_BYTES: String(MAX_IMAGE_BYTES) }),
      startHttpsServer(selfSignedCertificate(), (_, response) => response.end("image"), "127.0.0.1"),
    ]);
  }, 120_000);
  afterAll(async () => {
    await loopback?.close();
    await service?.shutdown();
  });

  const post = (body: FetchImageRequest | string) =>
    signedPost(
      `${service.url}/v1/fetch-image`,
      new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body)),
      "application/json",
    );

  async function expectProblem(response: Response, status: number, code: string): Promise<string> {
    expect(response.status).toBe(status);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await response.json()) as { code: string; detail: string };
    expect(problem.code).toBe(code);
    return problem.detail;
  }

  it("refuses every loopback name of /etc/hosts and every loopback spelling with 400, connecting to nothing", async () => {
    const port = new URL(service.url).port;
    const urls = [
      ...loopbackHostNames().flatMap((name) => [
        `https://${name}:${loopback.port}/`,
        `https://${name}:${port}/`,
      ]),
      `https://127.0.0.1:${loopback.port}/`,
      `https://2130706433:${loopback.port}/`,
      `https://[::ffff:7f00:1]:${loopback.port}/`,
      `https://127.0.0.1:${port}/v1/embed/images`,
      "https://169.254.169.254/latest/meta-data/",
      `http://example.com/cat.png`,
    ];
    for (const url of urls) {
      const detail = await expectProblem(await post({ url }), 400, "url_not_allowed");
      expect(detail, url).not.toMatch(/ECONN|EHOST|port|refused/i);
    }
    expect(loopback.connections).toBe(0);
  });

  it("names the reason a host was refused", async () => {
    const name = loopbackHostNames().find((n) => n !== "localhost");
    if (name)
      expect(await expectProblem(await post({ url: `https://${name}/` }), 400, "url_not_allowed")).toBe(
        "the host name resolves to a loopback address",
      );
    expect(await expectProblem(await post({ url: "https://[fd00:ec2::254]/" }), 400, "url_not_allowed")).toBe(
      "the host is a cloud metadata address",
    );
    expect(
      await expectProblem(
        await post({ url: "https://gpu.example.com/", deny_hosts: ["GPU.example.com."] }),
        400,
        "url_not_allowed",
      ),
    ).toBe("this host may not be fetched");
  });

  it.each([
    ["not JSON", "{"],
    ["no url", "{}"],
    ["url not a string", JSON.stringify({ url: 42 })],
    ["an unknown field", JSON.stringify({ url: "https://example.com/", follow: true })],
    [
      "max_bytes over MAX_IMAGE_BYTES",
      JSON.stringify({ url: "https://example.com/", max_bytes: MAX_IMAGE_BYTES + 1 }),
    ],
    ["max_bytes not an integer", JSON.stringify({ url: "https://example.com/", max_bytes: 1.5 })],
    ["max_redirects 6", JSON.stringify({ url: "https://example.com/", max_redirects: 6 })],
    ["max_redirects −1", JSON.stringify({ url: "https://example.com/", max_redirects: -1 })],
    ["timeout_ms 99", JSON.stringify({ url: "https://example.com/", timeout_ms: 99 })],
    ["timeout_ms 30001", JSON.stringify({ url: "https://example.com/", timeout_ms: 30_001 })],
    [
      "33 deny_hosts",
      JSON.stringify({ url: "https://example.com/", deny_hosts: Array(33).fill("a.example") }),
    ],
    ["a deny_host not a string", JSON.stringify({ url: "https://example.com/", deny_hosts: [1] })],
  ])("answers 400 invalid_input for %s", async (_, body) => {
    await expectProblem(await post(body), 400, "invalid_input");
  });

  it("refuses an unsigned request with 401", async () => {
    const response = await fetch(`${service.url}/v1/fetch-image`, {
      method: "POST",
      body: JSON.stringify({ url: "https://example.com/" }),
      headers: { "content-type": "application/json" },
    });
    expect(response.status).toBe(401);
  });
});
