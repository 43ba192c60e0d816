import { networkInterfaces } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkImageUrl } from "../../src/net/index.ts";
import { loopbackHostNames } from "../../test/support/etc-hosts.ts";
import { resolvingTestNames } from "../../test/support/resolvers.ts";
import {
  type CountingServer,
  selfSignedCertificate,
  startHttpsServer,
  type TestCertificate,
} from "../../test/support/tls-server.ts";
import { createImageFetcher, type ImageFetchLimits } from "./fetch-image.ts";

const limits: ImageFetchLimits = { maxBytes: 1 << 20, maxRedirects: 3, timeoutMs: 5_000 };
const IMAGE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);

// This machine's non-loopback, non-link-local addresses (link-local ones need a zone to be reached at all).
const interfaceAddresses = Object.values(networkInterfaces())
  .flatMap((entries) => entries ?? [])
  .filter((e) => !e.internal && !e.address.startsWith("fe80:"))
  .map((e) => e.address);

// The hosts file's loopback names that only DNS vetting can catch (`vm`, `runsc` here): none on a machine whose
// /etc/hosts lists only localhost, where fetch-image.rebinding.test.ts's injected names prove the same rule.
const dnsOnlyHostsNames = loopbackHostNames().filter(
  (name) => checkImageUrl(`https://${name}/`) === undefined,
);
if (dnsOnlyHostsNames.length === 0)
  console.warn(
    "fetch-image.security.test.ts: /etc/hosts maps no name but localhost to loopback here; " +
      "the hosts-file test is skipped (fetch-image.rebinding.test.ts covers the rule with injected names)",
  );

describe("image fetching refuses what it must never reach, without connecting", () => {
  let certificate: TestCertificate;
  /** Where every loopback name of /etc/hosts points; must see no connection at all. */
  let loopback: CountingServer;
  /** A server for the tests that need one (127.0.0.2 = images.test, trusted by the injected fetcher). */
  let allowed: CountingServer;
  let ownServers: CountingServer[] = [];
  const production = createImageFetcher();
  let trusting: ReturnType<typeof createImageFetcher>;

  beforeAll(async () => {
    certificate = selfSignedCertificate(
      ["127.0.0.1", "127.0.0.2", ...interfaceAddresses],
      ["localhost", "images.test"],
    );
    const serveImage = (_: unknown, response: import("node:http").ServerResponse) => response.end(IMAGE);
    loopback = await startHttpsServer(certificate, serveImage, "127.0.0.1");
    allowed = await startHttpsServer(
      certificate,
      (request, response) => {
        const to = new URL(request.url ?? "/", "https://x").searchParams.get("to");
        if (to) response.writeHead(302, { location: to }).end();
        else response.end(IMAGE);
      },
      "127.0.0.2",
    );
    ownServers = await Promise.all(
      interfaceAddresses.map((a) => startHttpsServer(certificate, serveImage, a)),
    );
    // What the test entry point injects: test names resolved by table, everything else by the system resolver.
    trusting = createImageFetcher({
      resolve: resolvingTestNames({ "images.test": "127.0.0.2", "loopback.test": "127.0.0.1" }),
      trust: { addresses: ["127.0.0.2", ...interfaceAddresses], ca: certificate.cert },
    });
  });
  afterAll(async () => {
    await Promise.all([loopback, allowed, ...ownServers].map((s) => s?.close()));
  });

  it.each(loopbackHostNames())(
    "refuses https://%s (a loopback name of /etc/hosts) and never connects",
    async (name) => {
      for (const fetcher of [production, trusting]) {
        const got = await fetcher.fetch(`https://${name}:${loopback.port}/cat.png`, limits);
        expect(got).toMatchObject({ ok: false, code: "url_not_allowed" });
        expect(got.ok === false && got.message).toMatch(
          /^the host (name resolves to a loopback address|is a local name)$/,
        );
      }
      expect(loopback.connections).toBe(0);
    },
  );

  it.skipIf(dnsOnlyHostsNames.length === 0)(
    dnsOnlyHostsNames.length > 0
      ? `refuses the hosts-file names only DNS vetting can catch (${dnsOnlyHostsNames.join(", ")})`
      : "SKIPPED: no hosts-file loopback name besides localhost on this machine (see fetch-image.rebinding.test.ts)",
    async () => {
      expect(dnsOnlyHostsNames.length).toBeGreaterThan(0);
      for (const name of dnsOnlyHostsNames) {
        const got = await production.fetch(`https://${name}:${loopback.port}/`, limits);
        expect(got).toEqual({
          ok: false,
          code: "url_not_allowed",
          message: "the host name resolves to a loopback address",
        });
      }
      expect(loopback.connections).toBe(0);
    },
  );

  it.each([
    "https://127.0.0.1:PORT/",
    "https://2130706433:PORT/",
    "https://0x7f.1:PORT/",
    "https://017700000001:PORT/",
    "https://0177.0.0.1:PORT/",
    "https://127.1:PORT/",
    "https://127.0.0.1.:PORT/",
    "https://[::ffff:127.0.0.1]:PORT/",
    "https://[::ffff:7f00:1]:PORT/",
    "https://[::127.0.0.1]:PORT/",
    "https://[64:ff9b::7f00:1]:PORT/",
    "https://[2002:7f00:1::]:PORT/",
    "https://[::1]:PORT/",
    "https://[fe80::1%25lo]:PORT/",
    "https://0.0.0.0:PORT/",
    "https://[::]:PORT/",
    "https://LOCALHOST.:PORT/",
    "https://ｌｏｃａｌｈｏｓｔ:PORT/",
  ])("refuses %s and never connects", async (template) => {
    const got = await production.fetch(template.replace("PORT", String(loopback.port)), limits);
    expect(got).toMatchObject({ ok: false, code: "url_not_allowed" });
    expect(loopback.connections).toBe(0);
  });

  it("refuses the test server itself under the production policy (the test-only trust is what lets it pass)", async () => {
    expect(await production.fetch(allowed.url("/cat.png"), limits)).toEqual({
      ok: false,
      code: "url_not_allowed",
      message: "the host is a loopback address",
    });
    expect(allowed.connections).toBe(0);
    expect(await trusting.fetch(allowed.url("/cat.png"), limits)).toMatchObject({ ok: true });
    expect(allowed.connections).toBe(1);
  });

  it("re-checks every redirect hop and never connects to a refused target", async () => {
    const targets = [
      ...dnsOnlyHostsNames.map((name) => `https://${name}:${loopback.port}/`),
      `https://loopback.test:${loopback.port}/`,
      `https://localhost:${loopback.port}/`,
      `https://127.0.0.1:${loopback.port}/`,
      `https://[::ffff:7f00:1]:${loopback.port}/`,
      `http://127.0.0.2:${allowed.port}/`,
      "https://user:pw@example.com/",
    ];
    const before = allowed.connections;
    for (const target of targets) {
      const got = await trusting.fetch(allowed.url(`/r?to=${encodeURIComponent(target)}`), limits);
      expect(got, target).toMatchObject({ ok: false, code: "url_not_allowed" });
      expect(got.ok === false && got.message).toMatch(/^redirect to /);
    }
    expect(allowed.connections - before).toBeGreaterThanOrEqual(1); // the first hop was served
    expect(loopback.connections).toBe(0);
  });

  it("refuses deny_hosts by name and by every address they resolve to", async () => {
    // 127.0.0.1 is trusted here, so only this machine's-own-address rule and the deny list can refuse it; which of
    // the two answered shows that the deny list's names were resolved.
    const fetcher = createImageFetcher({ trust: { addresses: ["127.0.0.1"], ca: certificate.cert } });
    const url = `https://127.0.0.1:${loopback.port}/cat.png`;
    for (const name of [...loopbackHostNames(), "LOCALHOST."]) {
      expect(await fetcher.fetch(url, { ...limits, denyHosts: ["gpu.example.com", name] }), name).toEqual({
        ok: false,
        code: "url_not_allowed",
        message: "the host is an address of a denied host",
      });
    }
    expect(await fetcher.fetch(url, { ...limits, denyHosts: ["gpu.example.com"] })).toEqual({
      ok: false,
      code: "url_not_allowed",
      message: "the host is this machine's own address",
    });
    expect(loopback.connections).toBe(0);

    // A redirect to a denied name or address is refused as well, by the name alone.
    const target = `https://127.0.0.2:${allowed.port}/cat.png`;
    for (const denyHosts of [["127.0.0.2"], ["[::ffff:127.0.0.2]"]]) {
      expect(
        await trusting.fetch(allowed.url(`/r?to=${encodeURIComponent(target)}`), { ...limits, denyHosts }),
      ).toEqual({
        ok: false,
        code: "url_not_allowed",
        message: "this host may not be fetched",
      });
    }
    expect(await trusting.fetch(allowed.url(`/r?to=${encodeURIComponent(target)}`), limits)).toMatchObject({
      ok: true,
    });
  });

  it.skipIf(interfaceAddresses.length === 0)(
    "refuses this machine's own interface addresses, even when a test trusts them as public",
    async () => {
      for (const [i, address] of interfaceAddresses.entries()) {
        const server = ownServers[i] as CountingServer;
        for (const fetcher of [production, trusting]) {
          const got = await fetcher.fetch(server.url("/cat.png"), limits);
          expect(got, address).toMatchObject({ ok: false, code: "url_not_allowed" });
        }
        expect(await trusting.fetch(server.url(), limits)).toEqual({
          ok: false,
          code: "url_not_allowed",
          message: "the host is this machine's own address",
        });
        expect(server.connections, address).toBe(0);
      }
    },
  );

  it("never sends cookies or credentials, and asks for images", async () => {
    const seen = allowed.requests.length;
    await trusting.fetch(allowed.url(`/r?to=${encodeURIComponent(allowed.url("/cat.png"))}`), limits);
    const sent = allowed.requests.slice(seen);
    expect(sent).toHaveLength(2);
    for (const { headers } of sent) {
      expect(headers.accept).toBe("image/*");
      expect(headers.cookie).toBeUndefined();
      expect(headers.authorization).toBeUndefined();
    }
  });
});
