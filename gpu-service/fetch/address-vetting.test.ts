import { networkInterfaces } from "node:os";
import { describe, expect, it } from "vitest";
import { type AddressList, parseAddressList } from "../../src/net/index.ts";
import { allowing } from "../../test/support/allow-list.ts";
import { type AddressPolicy, ownInterfaceAddresses, vetAddresses } from "./address-vetting.ts";

const production: AddressPolicy = { own: new Set(), denied: new Set() };

describe("vetAddresses", () => {
  it("passes an answer of public addresses only", () => {
    expect(vetAddresses(["93.184.215.14", "2606:4700::1111"], production)).toEqual({ ok: true });
  });

  it("refuses the whole answer when any one address is not public", () => {
    expect(vetAddresses(["93.184.215.14", "10.0.0.1"], production)).toEqual({
      ok: false,
      reason: "a private address",
    });
    expect(vetAddresses(["2606:4700::1111", "::ffff:127.0.0.1"], production)).toEqual({
      ok: false,
      reason: "a loopback address",
    });
  });

  it("refuses an empty answer and text that is no address", () => {
    expect(vetAddresses([], production).ok).toBe(false);
    expect(vetAddresses(["example.com"], production).ok).toBe(false);
  });

  it("refuses this machine's own addresses and denied hosts' addresses even when public, in any spelling", () => {
    const policy: AddressPolicy = { own: new Set(["93.184.215.14"]), denied: new Set(["2606:4700::1111"]) };
    expect(vetAddresses(["::ffff:5db8:d70e"], policy)).toEqual({
      ok: false,
      reason: "this machine's own address",
    });
    expect(vetAddresses(["1.1.1.1", "2606:4700:0:0::1111"], policy)).toEqual({
      ok: false,
      reason: "an address of a denied host",
    });
  });

  it("lets a test entry point trust an exact loopback address, but not past the own-address and deny checks", () => {
    const trusting: AddressPolicy = { ...production, trusted: new Set(["127.0.0.2"]) };
    expect(vetAddresses(["127.0.0.2"], trusting)).toEqual({ ok: true });
    expect(vetAddresses(["127.0.0.1"], trusting).ok).toBe(false);
    expect(vetAddresses(["127.0.0.2"], { ...trusting, own: new Set(["127.0.0.2"]) })).toEqual({
      ok: false,
      reason: "this machine's own address",
    });
    expect(vetAddresses(["127.0.0.2"], { ...trusting, refused: parsedList("127.0.0.0/8") })).toEqual({
      ok: false,
      reason: "an address this service never fetches from",
    });
    expect(vetAddresses(["127.0.0.2"], production)).toEqual({ ok: false, reason: "a loopback address" });
  });
});

describe("ownInterfaceAddresses", () => {
  it("holds every address of every interface, canonically spelt", () => {
    const own = ownInterfaceAddresses({
      lo: [
        {
          address: "127.0.0.1",
          netmask: "255.0.0.0",
          family: "IPv4",
          mac: "00:00:00:00:00:00",
          internal: true,
          cidr: "127.0.0.1/8",
        },
      ],
      eth0: [
        {
          address: "2606:4700:0:0:0:0:0:1111",
          netmask: "ffff:ffff:ffff:ffff::",
          family: "IPv6",
          mac: "02:00:00:00:00:01",
          internal: false,
          cidr: "2606:4700::1111/64",
          scopeid: 0,
        },
      ],
    });
    expect([...own].sort()).toEqual(["127.0.0.1", "2606:4700::1111"]);
  });

  it("reads this machine's real interfaces by default", () => {
    const real = Object.values(networkInterfaces()).flatMap((entries) =>
      (entries ?? []).map((e) => e.address),
    );
    const own = ownInterfaceAddresses();
    expect(own.has("127.0.0.1")).toBe(true);
    expect(own.size).toBe(new Set(real).size);
  });
});

describe("URL_FETCH_ALLOW", () => {
  it("lets an allowed private range through, and nothing else that is not public", () => {
    const policy: AddressPolicy = { ...production, allowed: allowing(["10.0.0.0/8", "fd12:3456::/32"]) };
    expect(vetAddresses(["10.1.2.3", "fd12:3456::7"], policy)).toEqual({ ok: true });
    expect(vetAddresses(["192.168.0.1"], policy)).toEqual({ ok: false, reason: "a private address" });
    expect(vetAddresses(["10.1.2.3", "127.0.0.1"], policy)).toEqual({
      ok: false,
      reason: "a loopback address",
    });
  });

  it("never opens loopback, link-local or metadata, even through a list that claims to hold every address", () => {
    const policy: AddressPolicy = { ...production, allowed: { has: () => true, entries: ["everything"] } };
    expect(vetAddresses(["10.1.2.3"], policy)).toEqual({ ok: true });
    const refused = {
      "127.0.0.1": "a loopback address",
      "::1": "a loopback address",
      "0.0.0.0": "an unspecified address",
      "169.254.1.1": "a link-local address",
      "169.254.169.254": "a cloud metadata address",
      "fd00:ec2::254": "a cloud metadata address",
      "224.0.0.1": "a multicast address",
      "255.255.255.255": "a broadcast address",
    };
    for (const [address, reason] of Object.entries(refused))
      expect(vetAddresses([address], policy), address).toEqual({ ok: false, reason });
  });
});

describe("URL_FETCH_DENY", () => {
  it("refuses listed addresses, public and allowed private ones alike, in any spelling", () => {
    const policy: AddressPolicy = {
      ...production,
      allowed: allowing(["10.0.0.0/8"]),
      refused: parsedList("203.0.113.7, 93.184.215.14, 10.9.0.0/16"),
    };
    const denied = { ok: false, reason: "an address this service never fetches from" };
    expect(vetAddresses(["93.184.215.14"], policy)).toEqual(denied);
    expect(vetAddresses(["2606:4700::1111", "::ffff:5db8:d70e"], policy)).toEqual(denied);
    expect(vetAddresses(["10.9.1.1"], policy)).toEqual(denied);
    expect(vetAddresses(["10.8.1.1", "93.184.215.15"], policy)).toEqual({ ok: true });
  });
});

function parsedList(text: string): AddressList {
  const parsed = parseAddressList(text);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.list;
}
