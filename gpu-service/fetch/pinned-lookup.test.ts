import type { LookupAddress } from "node:dns";
import { connect, type LookupFunction } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tableResolver } from "../../test/support/resolvers.ts";
import { type CountingServer, startTcpServer } from "../../test/support/tls-server.ts";
import { type AddressPolicy, vetAddresses } from "./address-vetting.ts";
import { createPinnedLookup } from "./pinned-lookup.ts";
import type { ResolveHost } from "./resolve.ts";

const production: AddressPolicy = { own: new Set(), denied: new Set() };

function pinned(resolve: ResolveHost, policy = production) {
  const events: string[] = [];
  const lookup = createPinnedLookup({
    resolve,
    vet: (addresses) => vetAddresses(addresses, policy),
    onRefused: (host, reason) => events.push(`refused ${host}: ${reason}`),
    onUnresolved: (host) => events.push(`unresolved ${host}`),
  });
  return { lookup, events };
}

function call(lookup: LookupFunction, host: string, options: { all?: boolean; family?: number } = {}) {
  return new Promise<{ error: Error | null; address: string | LookupAddress[]; family?: number }>((resolve) =>
    lookup(host, options, (error, address, family) => resolve({ error, address, family })),
  );
}

describe("createPinnedLookup", () => {
  it("refuses a public-looking name whose resolver answers a private address", async () => {
    const { lookup, events } = pinned(tableResolver({ "images.example.com": ["10.1.2.3"] }));
    const got = await call(lookup, "images.example.com", { all: true });
    expect(got.error?.message).toBe("images.example.com resolves to a private address");
    expect(events).toEqual(["refused images.example.com: a private address"]);
  });

  it("refuses the name when any one of its addresses is not public", async () => {
    const { lookup } = pinned(
      tableResolver({ "cdn.example.com": ["93.184.215.14", "2606:4700::1111", "::ffff:169.254.169.254"] }),
    );
    expect((await call(lookup, "cdn.example.com", { all: true })).error?.message).toContain(
      "a cloud metadata address",
    );
  });

  it("hands the socket exactly the vetted addresses, as a list or as one", async () => {
    const resolve = tableResolver({ "cdn.example.com": ["93.184.215.14", "2606:4700::1111"] });
    const { lookup, events } = pinned(resolve);
    expect(await call(lookup, "cdn.example.com", { all: true })).toEqual({
      error: null,
      address: [
        { address: "93.184.215.14", family: 4 },
        { address: "2606:4700::1111", family: 6 },
      ],
      family: undefined,
    });
    expect(await call(lookup, "cdn.example.com")).toEqual({
      error: null,
      address: "93.184.215.14",
      family: 4,
    });
    expect(await call(lookup, "cdn.example.com", { family: 6 })).toEqual({
      error: null,
      address: "2606:4700::1111",
      family: 6,
    });
    expect(events).toEqual([]);
  });

  it("reports a name that does not resolve, or has no address of the family asked for", async () => {
    const { lookup, events } = pinned(tableResolver({ "v4only.example.com": ["93.184.215.14"] }));
    expect((await call(lookup, "nowhere.example.com")).error?.message).toContain("ENOTFOUND");
    expect((await call(lookup, "v4only.example.com", { family: 6 })).error).not.toBeNull();
    expect(events).toEqual(["unresolved nowhere.example.com", "unresolved v4only.example.com"]);
  });

  describe("on a real socket", () => {
    let vetted: CountingServer;
    let other: CountingServer;
    beforeAll(async () => {
      vetted = await startTcpServer((socket) => socket.end(), "127.0.0.2");
      other = await startTcpServer((socket) => socket.end(), "127.0.0.1");
    });
    afterAll(async () => {
      await vetted?.close();
      await other?.close();
    });

    const connectThrough = (lookup: LookupFunction, host: string, port: number) =>
      new Promise<Error | undefined>((resolve) => {
        const socket = connect({ host, port, lookup });
        socket.on("connect", () => {
          socket.destroy();
          resolve(undefined);
        });
        socket.on("error", resolve);
      });

    it("connects to the address it vetted, whatever the name answers next (no rebinding window)", async () => {
      // First answer 127.0.0.2 (trusted by this test), every later one 127.0.0.1 (refused).
      const resolve = tableResolver({ "rebind.example.com": [["127.0.0.2"], ["127.0.0.1"]] });
      const { lookup } = pinned(resolve, { ...production, trusted: new Set(["127.0.0.2"]) });
      expect(await connectThrough(lookup, "rebind.example.com", vetted.port)).toBeUndefined();
      expect(resolve.calls).toEqual(["rebind.example.com"]);
      expect(vetted.connections).toBe(1);

      const second = await connectThrough(lookup, "rebind.example.com", other.port);
      expect(second?.message).toBe("rebind.example.com resolves to a loopback address");
      expect(resolve.calls).toHaveLength(2);
      expect(other.connections).toBe(0);
    });

    it("never opens the socket for a refused name", async () => {
      const { lookup } = pinned(tableResolver({ "images.example.com": ["127.0.0.1"] }));
      const error = await connectThrough(lookup, "images.example.com", other.port);
      expect(error?.name).toBe("RefusedHostError");
      expect(other.connections).toBe(0);
    });
  });
});
