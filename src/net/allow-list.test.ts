import { describe, expect, it } from "vitest";
import { parseAddressList } from "./address-list.ts";
import { type AddressAllowList, exemptedByAllowList, parseAllowList } from "./allow-list.ts";

function allowList(text: string): AddressAllowList {
  const parsed = parseAllowList(text);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.list;
}

describe("parseAllowList (URL_FETCH_ALLOW, IMAGE_URL_ALLOW)", () => {
  it("matches addresses and CIDR ranges of either family, in any spelling", () => {
    const list = allowList(" 10.20.0.0/16, fd12:3456::/32 ,192.168.1.7, 100.64.0.0/10, fec0:1::/32");
    expect(list.entries).toEqual([
      "10.20.0.0/16",
      "fd12:3456::/32",
      "192.168.1.7",
      "100.64.0.0/10",
      "fec0:1::/32",
    ]);
    const inside = [
      "10.20.3.4",
      "::ffff:10.20.255.255",
      "fd12:3456:1::9",
      "192.168.1.7",
      "100.100.0.1",
      "fec0:1::5",
    ];
    expect(inside.map((a) => exemptedByAllowList(a, list))).toEqual(inside.map(() => true));
    const outside = [
      "10.21.0.1",
      "192.168.1.8",
      "fd12:3457::1",
      "127.0.0.1",
      "not an address",
      "93.184.215.14",
    ];
    expect(outside.map((a) => exemptedByAllowList(a, list))).toEqual(outside.map(() => false));
  });

  it("lets a whole 10.0.0.0/8 through, the widest IPv4 entry there is", () => {
    const list = allowList("10.0.0.0/8");
    expect(["10.0.0.1", "10.255.255.254", "::ffff:a00:1"].map((a) => exemptedByAllowList(a, list))).toEqual([
      true,
      true,
      true,
    ]);
    expect(exemptedByAllowList("11.0.0.1", list)).toBe(false);
  });

  it("is empty when unset, and names an entry that is no address", () => {
    const empty = parseAllowList(undefined);
    expect(empty.ok && exemptedByAllowList("10.0.0.1", empty.list)).toBe(false);
    expect(parseAllowList("10.0.0.0/8, intranet")).toEqual({
      ok: false,
      message: '"intranet" is neither an IP address nor a CIDR range',
    });
    expect(parseAllowList("10.0.0.0/33").ok).toBe(false);
  });

  it.each([
    [
      "127.0.0.1",
      /^"127\.0\.0\.1" is a loopback address, which no allow list may open; only private networks/,
    ],
    ["127.0.0.0/8", /^"127\.0\.0\.0\/8" holds a loopback address/],
    ["127.0.0.2", /is a loopback address/],
    ["::1", /is a loopback address/],
    ["::ffff:127.0.0.1", /is a loopback address/],
    ["0.0.0.0", /is an unspecified address/],
    ["0.0.0.0/8", /holds an unspecified address/],
    ["::", /is an unspecified address/],
    ["169.254.0.0/16", /holds a link-local address/],
    ["fe80::/10", /holds a link-local address/],
    ["169.254.169.254", /is a cloud metadata address/],
    ["fd00:ec2::254", /is a cloud metadata address/],
    ["100.100.100.200", /is a cloud metadata address/],
    ["168.63.129.16", /is a cloud metadata address/],
    ["224.0.0.0/4", /holds a multicast address/],
    ["ff02::1", /is a multicast address/],
    ["255.255.255.255", /is a broadcast address/],
    ["192.0.2.0/24", /holds a reserved, documentation or benchmarking address/],
    ["2001::/32", /holds a Teredo address/],
    ["8.8.8.8", /^"8\.8\.8\.8" is public and needs no allow list/],
    ["0.0.0.0/0", /^"0\.0\.0\.0\/0" holds an unspecified address/],
    ["10.0.0.0/7", /is wider than \/8/],
    ["::/0", /^"::\/0" holds an unspecified address/],
    ["fc00::/7", /is wider than \/16/],
    ["fd00::/8", /is wider than \/16/],
    ["172.16.0.0/8", /^"172\.16\.0\.0\/8" reaches beyond the private ranges/],
    ["100.64.0.0/9", /reaches beyond the private ranges/],
    ["::ffff:10.0.0.0/104", /reaches beyond the private ranges/],
  ])("refuses %s at start-up", (entry, message) => {
    const parsed = parseAllowList(`10.1.0.0/16, ${entry}`);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.message).toMatch(message);
  });
});

describe("exemptedByAllowList", () => {
  it("never opens loopback, link-local or metadata, even when a hand-made list claims to hold everything", () => {
    const everything: AddressAllowList = { has: () => true, entries: ["*"] };
    for (const address of [
      "127.0.0.1",
      "::1",
      "0.0.0.0",
      "169.254.169.254",
      "169.254.1.1",
      "fe80::1",
      "ff02::1",
    ])
      expect(exemptedByAllowList(address, everything), address).toBe(false);
    for (const address of ["100.100.100.200", "fd00:ec2::254", "224.0.0.1", "192.0.2.1", "64:ff9b::7f00:1"])
      expect(exemptedByAllowList(address, everything), address).toBe(false);
    for (const address of ["10.0.0.1", "172.16.0.1", "192.168.0.1", "100.64.0.1", "fd12::1", "fec0::1"])
      expect(exemptedByAllowList(address, everything), address).toBe(true);
  });

  it("keeps a metadata address inside an allowed range refused", () => {
    const list = allowList("100.100.0.0/16, fd00:ec2::/32");
    expect(exemptedByAllowList("100.100.1.1", list)).toBe(true);
    expect(exemptedByAllowList("100.100.100.200", list)).toBe(false);
    expect(exemptedByAllowList("fd00:ec2::1", list)).toBe(true);
    expect(exemptedByAllowList("fd00:ec2::254", list)).toBe(false);
  });
});

describe("parseAddressList (URL_FETCH_DENY)", () => {
  it("takes any address or range, public ones included", () => {
    const parsed = parseAddressList("203.0.113.7, 10.9.0.0/16, 2606:4700::/32");
    if (!parsed.ok) throw new Error(parsed.message);
    expect(
      ["203.0.113.7", "::ffff:203.0.113.7", "10.9.1.2", "2606:4700::1111"].map((a) => parsed.list.has(a)),
    ).toEqual([true, true, true, true]);
    expect(["203.0.113.8", "10.10.0.1", "2606:4701::1"].map((a) => parsed.list.has(a))).toEqual([
      false,
      false,
      false,
    ]);
    expect(parseAddressList("10.0.0.0/8, db.internal")).toEqual({
      ok: false,
      message: '"db.internal" is neither an IP address nor a CIDR range',
    });
  });
});
