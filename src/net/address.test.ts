import { describe, expect, it } from "vitest";
import { type AddressRefusal, canonicalAddress, classifyAddress } from "./address.ts";

describe("classifyAddress", () => {
  const refused: [string, AddressRefusal][] = [
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["2130706433", "loopback"], // decimal
    ["0x7f.1", "loopback"], // hex, two parts
    ["0x7f000001", "loopback"],
    ["017700000001", "loopback"], // octal
    ["0177.0.0.1", "loopback"],
    ["127.1", "loopback"],
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["169.254.1.1", "link_local"],
    ["169.254.169.254", "metadata"],
    ["169.254.170.2", "metadata"],
    ["168.63.129.16", "metadata"], // Azure's WireServer: public space, still refused
    ["100.100.100.200", "metadata"],
    ["100.64.0.1", "carrier_grade_nat"],
    ["100.127.255.255", "carrier_grade_nat"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["255.255.255.255", "broadcast"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["240.0.0.1", "reserved"],
    ["192.0.0.8", "reserved"],
    ["192.0.2.1", "reserved"], // TEST-NET-1
    ["198.51.100.1", "reserved"],
    ["203.0.113.1", "reserved"],
    ["198.18.0.1", "reserved"], // benchmarking
    ["::1", "loopback"],
    ["[::1]", "loopback"],
    ["::", "unspecified"],
    ["fe80::1", "link_local"],
    ["fe80::1%eth0", "link_local"],
    ["fc00::1", "unique_local"],
    ["fd12:3456::1", "unique_local"],
    ["fd00:ec2::254", "metadata"],
    ["fec0::1", "site_local"],
    ["ff02::1", "multicast"],
    ["2001::1", "teredo"],
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "teredo"],
    ["2001:db8::1", "reserved"],
    ["2001:2::1", "reserved"], // benchmarking
    ["3fff::1", "reserved"],
    ["100::1", "reserved"], // discard-only
    ["4000::1", "not_global_unicast"],
    ["5f00::1", "reserved"], // segment routing
    ["2606:4700::1111%eth0", "not_global_unicast"],
    ["::ffff:0:7f00:1", "reserved"], // IPv4-translated (RFC 6145), not an embedding we route by
    ["6000::1", "not_global_unicast"],
    ["::2:0:0:1", "not_global_unicast"],
    ["not an address", "invalid"],
    ["", "invalid"],
    ["1.2.3.256", "invalid"],
    ["08", "invalid"],
  ];
  it.each(refused)("refuses %s as %s", (address, reason) => {
    expect(classifyAddress(address)).toMatchObject({ public: false, reason });
  });

  const embedded: [string, AddressRefusal, string, string][] = [
    ["::ffff:127.0.0.1", "loopback", "ipv4-mapped", "127.0.0.1"],
    ["::ffff:7f00:1", "loopback", "ipv4-mapped", "127.0.0.1"],
    ["0:0:0:0:0:ffff:a00:1", "private", "ipv4-mapped", "10.0.0.1"],
    ["::ffff:169.254.169.254", "metadata", "ipv4-mapped", "169.254.169.254"],
    ["::7f00:1", "loopback", "ipv4-compatible", "127.0.0.1"],
    ["::127.0.0.1", "loopback", "ipv4-mapped", "127.0.0.1"], // ipaddr.js reads the deprecated dotted form as mapped
    ["::a00:1", "private", "ipv4-compatible", "10.0.0.1"],
    ["64:ff9b::a9fe:a9fe", "metadata", "nat64", "169.254.169.254"],
    ["64:ff9b::7f00:1", "loopback", "nat64", "127.0.0.1"],
    ["64:ff9b::192.168.0.1", "private", "nat64", "192.168.0.1"],
    ["64:ff9b:1::7f00:1", "loopback", "nat64", "127.0.0.1"], // local-use prefix, /96 position
    ["64:ff9b:1:7f00:0:100::", "loopback", "nat64", "127.0.0.1"], // /48 position (bits 64–71 are skipped)
    ["64:ff9b:1:ff0a:0:101::", "private", "nat64", "10.0.1.1"], // /56 position, after an operator byte
    ["64:ff9b:1::5db8:d70e", "unspecified", "nat64", "0.0.0.93"], // public at /96, 0.0.0.93 at /64: refused
    ["2002:7f00:1::", "loopback", "6to4", "127.0.0.1"],
    ["2002:c0a8:101::1", "private", "6to4", "192.168.1.1"],
    ["2002:a9fe:a9fe::", "metadata", "6to4", "169.254.169.254"],
  ];
  it.each(embedded)("judges %s by its embedded IPv4: %s", (address, reason, kind, ipv4) => {
    expect(classifyAddress(address)).toEqual({ public: false, reason, embedded: { kind, ipv4 } });
  });

  const publicOnes: [string, string, string?][] = [
    ["93.184.215.14", "93.184.215.14"],
    ["1.1.1.1", "1.1.1.1"],
    ["8.8.8.8", "8.8.8.8"],
    ["172.32.0.1", "172.32.0.1"], // just past 172.16/12
    ["100.128.0.1", "100.128.0.1"], // just past 100.64/10
    ["2606:4700::1111", "2606:4700::1111"],
    ["2606:4700:0:0:0:0:0:1111", "2606:4700::1111"],
    ["[2a00:1450:4001:80b::200e]", "2a00:1450:4001:80b::200e"],
    ["1572394766", "93.184.215.14"], // decimal spelling of a public address
    ["::ffff:93.184.215.14", "93.184.215.14", "93.184.215.14"],
    ["64:ff9b::5db8:d70e", "64:ff9b::5db8:d70e", "93.184.215.14"], // NAT64 of a public address
    ["2002:5db8:d70e::1", "2002:5db8:d70e::1", "93.184.215.14"], // 6to4 of a public address
    // Local-use NAT64 public under every reading: /96 184.215.14.1, /64 215.14.93.184, /56 …, /48 93.184.215.14.
    ["64:ff9b:1:5db8:d7:e5d:b8d7:e01", "64:ff9b:1:5db8:d7:e5d:b8d7:e01", "184.215.14.1"],
  ];
  it.each(publicOnes)("passes %s as %s", (address, canonical, ipv4) => {
    const verdict = classifyAddress(address);
    expect(verdict).toMatchObject({ public: true, address: canonical });
    expect(verdict.embedded?.ipv4).toBe(ipv4);
  });
});

describe("canonicalAddress", () => {
  it.each([
    ["::ffff:7f00:1", "127.0.0.1"],
    ["0x7f.1", "127.0.0.1"],
    ["2606:4700:0000::1111", "2606:4700::1111"],
    ["[::1]", "::1"],
    ["fe80::1%eth0", "fe80::1"],
    ["FD00:EC2::254", "fd00:ec2::254"],
  ])("spells %s as %s", (text, canonical) => {
    expect(canonicalAddress(text)).toBe(canonical);
  });
  it("is undefined for host names", () => {
    expect(canonicalAddress("example.com")).toBeUndefined();
  });
});
