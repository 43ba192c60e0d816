import type { IncomingMessage, ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CountingServer,
  closedPort,
  selfSignedCertificate,
  startHttpsServer,
  startTcpServer,
  type TestCertificate,
} from "../../test/support/tls-server.ts";
import { createImageFetcher, FETCH_FAILED_MESSAGE, type ImageFetchLimits } from "./fetch-image.ts";

const limits: ImageFetchLimits = { maxBytes: 1 << 20, maxRedirects: 3, timeoutMs: 10_000 };
const IMAGE = Uint8Array.from({ length: 3000 }, (_, i) => (i * 31) % 256);

/** /image, /sized/N (N bytes, declared), /chunked/N (N bytes, undeclared), /hops/N → … → /image, /status/N, /stall. */
function imageRoutes(request: IncomingMessage, response: ServerResponse): void {
  const [, route, arg] = (request.url ?? "/").split("/");
  const n = Number(arg);
  if (route === "image") response.writeHead(200, { "content-type": "image/png" }).end(IMAGE);
  else if (route === "sized") response.writeHead(200, { "content-length": n }).end(IMAGE.subarray(0, n));
  else if (route === "liar") {
    // Declares less than it sends: only the streaming cap can catch it.
    response.writeHead(200, { "transfer-encoding": "chunked" });
    for (let sent = 0; sent < n; sent += 500) response.write(IMAGE.subarray(0, Math.min(500, n - sent)));
    response.end();
  } else if (route === "hops")
    response
      .writeHead(
        n > 0 ? 302 : 200,
        n > 0 ? { location: `/hops/${n - 1}`, "set-cookie": "session=secret" } : {},
      )
      .end(n > 0 ? undefined : IMAGE);
  else if (route === "status") response.writeHead(n).end("nope");
  else if (route === "stall") response.writeHead(200, { "content-length": 100 }).write(IMAGE.subarray(0, 10));
  else if (route !== "silent") response.writeHead(404).end();
}

describe("image fetching, with a loopback test server the injected trust admits", () => {
  let certificate: TestCertificate;
  let server: CountingServer;
  let fetcher: ReturnType<typeof createImageFetcher>;
  beforeAll(async () => {
    certificate = selfSignedCertificate();
    server = await startHttpsServer(certificate, imageRoutes);
    fetcher = createImageFetcher({ trust: { addresses: ["127.0.0.2"], ca: certificate.cert } });
  });
  afterAll(() => server?.close());

  it("returns the bytes and the final URL", async () => {
    expect(await fetcher.fetch(server.url("/image"), limits)).toEqual({
      ok: true,
      bytes: IMAGE,
      finalUrl: server.url("/image"),
    });
  });

  it("refuses a declared Content-Length over max_bytes, and one exactly at it passes", async () => {
    const tooLarge = { ok: false, code: "image_too_large", message: "the image is larger than 2999 bytes" };
    expect(await fetcher.fetch(server.url("/sized/3000"), { ...limits, maxBytes: 2999 })).toEqual(tooLarge);
    const exact = await fetcher.fetch(server.url("/sized/3000"), { ...limits, maxBytes: 3000 });
    expect(exact.ok && exact.bytes.length).toBe(3000);
  });

  it("cuts off an undeclared body past max_bytes while streaming", async () => {
    expect(await fetcher.fetch(server.url("/liar/3000"), { ...limits, maxBytes: 1200 })).toMatchObject({
      ok: false,
      code: "image_too_large",
    });
    const fits = await fetcher.fetch(server.url("/liar/1200"), { ...limits, maxBytes: 1200 });
    expect(fits.ok && fits.bytes.length).toBe(1200);
  });

  it("follows at most max_redirects hops", async () => {
    const three = await fetcher.fetch(server.url("/hops/3"), { ...limits, maxRedirects: 3 });
    expect(three).toMatchObject({ ok: true, finalUrl: server.url("/hops/0") });
    expect(await fetcher.fetch(server.url("/hops/4"), { ...limits, maxRedirects: 3 })).toEqual({
      ok: false,
      code: "url_fetch_failed",
      message: "the image URL redirected more than 3 times",
    });
    expect(await fetcher.fetch(server.url("/hops/1"), { ...limits, maxRedirects: 0 })).toMatchObject({
      ok: false,
      code: "url_fetch_failed",
    });
    expect((await fetcher.fetch(server.url("/hops/0"), { ...limits, maxRedirects: 0 })).ok).toBe(true);
  });

  it("does not send back a cookie a redirect set", async () => {
    const before = server.requests.length;
    await fetcher.fetch(server.url("/hops/2"), limits);
    const sent = server.requests.slice(before);
    expect(sent.map((r) => r.url)).toEqual(["/hops/2", "/hops/1", "/hops/0"]);
    expect(sent.every((r) => r.headers.cookie === undefined)).toBe(true);
  });

  it("names an HTTP error status", async () => {
    expect(await fetcher.fetch(server.url("/status/404"), limits)).toEqual({
      ok: false,
      code: "url_fetch_failed",
      message: "the image URL answered 404",
    });
    expect(await fetcher.fetch(server.url("/status/503"), limits)).toMatchObject({
      message: "the image URL answered 503",
    });
  });

  it("gives up after timeout_ms, before the headers or in the middle of the body", async () => {
    const silent = await fetcher.fetch(server.url("/silent"), { ...limits, timeoutMs: 300 });
    expect(silent).toEqual({ ok: false, code: "url_fetch_failed", message: FETCH_FAILED_MESSAGE });
    const stalled = await fetcher.fetch(server.url("/stall"), { ...limits, timeoutMs: 300 });
    expect(stalled).toEqual({ ok: false, code: "url_fetch_failed", message: FETCH_FAILED_MESSAGE });
  });

  it("stops when the caller's signal fires", async () => {
    const controller = new AbortController();
    const pending = fetcher.fetch(server.url("/silent"), limits, controller.signal);
    controller.abort();
    expect(await pending).toEqual({ ok: false, code: "url_fetch_failed", message: FETCH_FAILED_MESSAGE });
  });
});

describe("failures after vetting all read the same, so no port can be told open from closed", () => {
  const servers: CountingServer[] = [];
  afterAll(() => Promise.all(servers.map((s) => s.close())));

  it("closed port, open plain-TCP ports, a reset, a silent port and an untrusted certificate", async () => {
    const certificate = selfSignedCertificate();
    const untrusted = selfSignedCertificate();
    const fetcher = createImageFetcher({ trust: { addresses: ["127.0.0.2"], ca: certificate.cert } });
    const open = {
      http: await startTcpServer((s) => s.end("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")),
      ssh: await startTcpServer((s) => s.end("SSH-2.0-OpenSSH_9.6\r\n")),
      reset: await startTcpServer((s) => s.resetAndDestroy()),
      silent: await startTcpServer(() => {}),
      badCert: await startHttpsServer(untrusted, (_, response) => response.end("ok")),
    };
    servers.push(...Object.values(open));
    const port = await closedPort();
    const results = {
      closed: await fetcher.fetch(`https://127.0.0.2:${port}/`, limits),
      ...Object.fromEntries(
        await Promise.all(
          Object.entries(open).map(async ([name, s]) => [
            name,
            await fetcher.fetch(s.url(), { ...limits, timeoutMs: 1_000 }),
          ]),
        ),
      ),
    };
    for (const [name, result] of Object.entries(results))
      expect(result, name).toEqual({ ok: false, code: "url_fetch_failed", message: FETCH_FAILED_MESSAGE });
    // Each open port really was reached: the sameness is not from never trying.
    for (const [name, s] of Object.entries(open)) expect(s.connections, name).toBeGreaterThanOrEqual(1);
  });
});
