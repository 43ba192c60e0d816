import type { ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAddressList } from "../../src/net/index.ts";
import { tableResolver } from "../../test/support/resolvers.ts";
import {
  type CountingServer,
  selfSignedCertificate,
  startHttpsServer,
  type TestCertificate,
} from "../../test/support/tls-server.ts";
import { createImageFetcher, FETCH_FAILED_MESSAGE, type ImageFetchLimits } from "./fetch-image.ts";
import type { ResolveHost } from "./resolve.ts";

// Names resolved by an injected resolver, so these run on every machine, whatever its /etc/hosts says. 127.0.0.2 is
// trusted by the fetcher and stands for a public address: the rules under test are the ones about the *other*
// answers a name gives.

const limits: ImageFetchLimits = { maxBytes: 1 << 20, maxRedirects: 3, timeoutMs: 10_000 };
const IMAGE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 9, 8, 7]);
const NAMES = [
  "rebind.test",
  "twice.test",
  "loopback.test",
  "loopback6.test",
  "mapped.test",
  "mixed.test",
  "images.test",
  "slow.test",
];

describe("image fetching with names whose DNS answers change or point home", () => {
  let certificate: TestCertificate;
  /** 127.0.0.1: every refused answer points here, and it must see no connection. */
  let loopback: CountingServer;
  /** 127.0.0.2, the stand-in for a public host; `/r?to=URL` redirects. */
  let publicStandIn: CountingServer;

  beforeAll(async () => {
    certificate = selfSignedCertificate(["127.0.0.1", "127.0.0.2"], NAMES);
    const serve = (url: string | undefined, response: ServerResponse) => {
      const to = new URL(url ?? "/", "https://x").searchParams.get("to");
      if (to) response.writeHead(302, { location: to }).end();
      else response.end(IMAGE);
    };
    loopback = await startHttpsServer(
      certificate,
      (request, response) => serve(request.url, response),
      "127.0.0.1",
    );
    publicStandIn = await startHttpsServer(certificate, (request, response) => serve(request.url, response));
  });
  afterAll(async () => {
    await Promise.all([loopback, publicStandIn].map((s) => s?.close()));
  });

  const fetcherWith = (resolve: ResolveHost, extra: Parameters<typeof createImageFetcher>[0] = {}) =>
    createImageFetcher({ resolve, trust: { addresses: ["127.0.0.2"], ca: certificate.cert }, ...extra });

  it("refuses a name that answers only loopback, in either family or spelling, and never connects", async () => {
    const fetcher = fetcherWith(
      tableResolver({
        "loopback.test": ["127.0.0.1"],
        "loopback6.test": ["::1"],
        "mapped.test": ["::ffff:127.0.0.1"],
        // One acceptable answer does not save the name: the connection may use any of them.
        "mixed.test": ["127.0.0.2", "127.0.0.1"],
      }),
    );
    for (const name of ["loopback.test", "loopback6.test", "mapped.test", "mixed.test"]) {
      expect(await fetcher.fetch(`https://${name}:${loopback.port}/cat.png`, limits), name).toEqual({
        ok: false,
        code: "url_not_allowed",
        message: "the host name resolves to a loopback address",
      });
    }
    expect(loopback.connections).toBe(0);
  });

  it("connects to the first answer it vetted, and refuses the loopback answer the same name gives next", async () => {
    const resolve = tableResolver({ "rebind.test": [["127.0.0.2"], ["127.0.0.1"]] });
    const fetcher = fetcherWith(resolve);
    const before = publicStandIn.connections;
    // The first hop is served by the stand-in; the redirect names the same host again, on the loopback's port.
    const target = `https://rebind.test:${loopback.port}/cat.png`;
    const got = await fetcher.fetch(
      `https://rebind.test:${publicStandIn.port}/r?to=${encodeURIComponent(target)}`,
      limits,
    );
    expect(got).toEqual({
      ok: false,
      code: "url_not_allowed",
      message: `redirect to ${target}: the host name resolves to a loopback address`,
    });
    // One look-up per connection: the address vetted is the address connected to.
    expect(resolve.calls).toEqual(["rebind.test", "rebind.test"]);
    expect(publicStandIn.connections - before).toBe(1);
    expect(loopback.connections).toBe(0);
  });

  it("fetches from the stand-in once and refuses the same URL when the name has moved to loopback", async () => {
    const resolve = tableResolver({ "twice.test": [["127.0.0.2"], ["127.0.0.1"]] });
    const fetcher = fetcherWith(resolve);
    const url = `https://twice.test:${publicStandIn.port}/cat.png`;
    expect(await fetcher.fetch(url, limits)).toEqual({ ok: true, bytes: IMAGE, finalUrl: url });
    expect(await fetcher.fetch(url, limits)).toMatchObject({
      ok: false,
      code: "url_not_allowed",
      message: "the host name resolves to a loopback address",
    });
    expect(resolve.calls).toEqual(["twice.test", "twice.test"]);
    expect(loopback.connections).toBe(0);
  });

  it("refuses URL_FETCH_DENY's addresses by name and as literals, whatever else lets them through", async () => {
    const deny = parseAddressList("127.0.0.2");
    if (!deny.ok) throw new Error(deny.message);
    const fetcher = fetcherWith(tableResolver({ "images.test": ["127.0.0.2"] }), { deny: deny.list });
    const before = publicStandIn.connections;
    expect(await fetcher.fetch(`https://images.test:${publicStandIn.port}/cat.png`, limits)).toEqual({
      ok: false,
      code: "url_not_allowed",
      message: "the host name resolves to an address this service never fetches from",
    });
    expect(await fetcher.fetch(publicStandIn.url("/cat.png"), limits)).toEqual({
      ok: false,
      code: "url_not_allowed",
      message: "the host is an address this service never fetches from",
    });
    expect(publicStandIn.connections - before).toBe(0);
  });

  it("waits for a look-up slot only as long as the fetch's timeout, then fails like any network failure", async () => {
    let answerSlow: () => void = () => {};
    const slowAnswered = new Promise<void>((resolve) => {
      answerSlow = resolve;
    });
    const calls: string[] = [];
    // `slow.test` stands for attacker-controlled DNS that takes its time; it holds the only slot until released.
    const resolve: ResolveHost = async (host) => {
      calls.push(host);
      if (host === "slow.test") await slowAnswered;
      return [{ address: "127.0.0.2", family: 4 }];
    };
    const fetcher = fetcherWith(resolve, { lookupSlots: 1 });
    const slow = fetcher.fetch(`https://slow.test:${publicStandIn.port}/cat.png`, {
      ...limits,
      timeoutMs: 120_000,
    });
    const starved = await fetcher.fetch(`https://images.test:${publicStandIn.port}/cat.png`, {
      ...limits,
      timeoutMs: 300,
    });
    expect(starved).toEqual({ ok: false, code: "url_fetch_failed", message: FETCH_FAILED_MESSAGE });
    expect(calls).toEqual(["slow.test"]);

    answerSlow();
    expect(await slow).toMatchObject({
      ok: true,
      finalUrl: `https://slow.test:${publicStandIn.port}/cat.png`,
    });
    const url = `https://images.test:${publicStandIn.port}/cat.png`;
    expect(await fetcher.fetch(url, limits)).toEqual({ ok: true, bytes: IMAGE, finalUrl: url });
    expect(calls).toEqual(["slow.test", "images.test"]);
  });
});
