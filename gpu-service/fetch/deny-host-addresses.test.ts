import { describe, expect, it } from "vitest";
import { createDenyHostAddresses } from "./deny-host-addresses.ts";
import type { ResolveHost } from "./resolve.ts";

function countingResolver(table: Record<string, string[]>): ResolveHost & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (host: string) => {
    calls.push(host);
    const answer = table[host];
    if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    return answer.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return Object.assign(resolve, { calls });
}

describe("createDenyHostAddresses", () => {
  it("resolves every deny-listed name and takes IP entries as they are, canonically spelt", async () => {
    const resolve = countingResolver({ "gpu.example.com": ["93.184.215.14", "2606:4700:0::1111"] });
    const deny = createDenyHostAddresses({ resolve });
    const addresses = await deny.addressesOf(["GPU.example.com.", "::ffff:10.0.0.9", "[fd00::1]", "1.1.1.1"]);
    expect([...addresses].sort()).toEqual([
      "1.1.1.1",
      "10.0.0.9",
      "2606:4700::1111",
      "93.184.215.14",
      "fd00::1",
    ]);
    expect(resolve.calls).toEqual(["gpu.example.com"]);
  });

  it("reuses an answer for ttlMs, then asks again", async () => {
    let now = 1_000;
    const resolve = countingResolver({ "gpu.example.com": ["93.184.215.14"] });
    const deny = createDenyHostAddresses({ resolve, ttlMs: 30_000, now: () => now });
    await deny.addressesOf(["gpu.example.com"]);
    await Promise.all([deny.addressesOf(["gpu.example.com"]), deny.addressesOf(["Gpu.Example.Com"])]);
    expect(resolve.calls).toHaveLength(1);
    now += 30_001;
    await deny.addressesOf(["gpu.example.com"]);
    expect(resolve.calls).toHaveLength(2);
  });

  it("denies nothing for a name that does not resolve, and does not remember the failure", async () => {
    const resolve = countingResolver({});
    const deny = createDenyHostAddresses({ resolve });
    expect((await deny.addressesOf(["gone.example.com"])).size).toBe(0);
    await deny.addressesOf(["gone.example.com"]);
    expect(resolve.calls).toEqual(["gone.example.com", "gone.example.com"]);
  });

  it("keeps at most maxEntries names, dropping the oldest", async () => {
    const resolve = countingResolver({ "a.test": ["1.1.1.1"], "b.test": ["1.0.0.1"], "c.test": ["8.8.8.8"] });
    const deny = createDenyHostAddresses({ resolve, maxEntries: 2 });
    await deny.addressesOf(["a.test", "b.test", "c.test"]);
    await deny.addressesOf(["b.test", "c.test"]);
    expect(resolve.calls).toEqual(["a.test", "b.test", "c.test"]);
    await deny.addressesOf(["a.test"]);
    expect(resolve.calls).toHaveLength(4);
  });

  it("resolves through the system resolver by default, /etc/hosts included", async () => {
    expect((await createDenyHostAddresses().addressesOf(["localhost"])).has("127.0.0.1")).toBe(true);
  });
});
