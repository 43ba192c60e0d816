import { describe, expect, it } from "vitest";
import { checkImageUrl, ipLiteralHost } from "./image-url.ts";

describe("checkImageUrl", () => {
  // Each spelling the WHATWG parser accepts for a non-public host, and the reason it is refused with.
  const refused: [string, string][] = [
    ["not a url", "not a valid URL"],
    ["http://example.com/a.jpg", "must use https"],
    ["ftp://example.com/a.jpg", "must use https"],
    ["file:///etc/passwd", "must use https"],
    ["data:image/png;base64,AAAA", "must use https"],
    ["https://user:pass@example.com/a.jpg", "credentials"],
    ["https://user@example.com/a.jpg", "credentials"],
    ["https://localhost/", "local name"],
    ["https://LOCALHOST./", "local name"],
    ["https://localhost../", "local name"],
    ["https://ｌｏｃａｌｈｏｓｔ/", "local name"], // full-width letters, mapped by IDNA
    ["https://api.localhost/", "local name"],
    ["https://printer.local/", "local name"],
    ["https://a%2elocal/", "local name"],
    ["https://metadata.google.internal/computeMetadata/v1/", "local name"],
    ["https://ip-10-0-0-1.ec2.internal./", "local name"],
    ["https://router.home.arpa/", "local name"],
    ["https://box.localdomain/", "local name"],
    ["https://127.0.0.1/", "loopback"],
    ["https://127.0.0.1./", "loopback"],
    ["https://127.1/", "loopback"],
    ["https://2130706433/", "loopback"],
    ["https://0x7f.1/", "loopback"],
    ["https://0x7F000001/", "loopback"],
    ["https://017700000001/", "loopback"],
    ["https://0177.0.0.1/", "loopback"],
    ["https://[::1]/", "loopback"],
    ["https://[0:0:0:0:0:0:0:1]:8443/", "loopback"],
    ["https://[::ffff:127.0.0.1]/", "loopback"],
    ["https://[::ffff:7f00:1]/", "loopback"],
    ["https://[::127.0.0.1]/", "loopback"],
    ["https://[64:ff9b::a9fe:a9fe]/", "cloud metadata"],
    ["https://[64:ff9b::7f00:1]/", "loopback"],
    ["https://[2002:7f00:1::]/", "loopback"],
    ["https://[fe80::1%25eth0]/", "not a valid URL"], // the WHATWG parser refuses zone ids outright
    ["https://[fe80::1]/", "link-local"],
    ["https://[fd00:ec2::254]/", "cloud metadata"],
    ["https://[fc00::1]/", "unique-local"],
    ["https://[2001:db8::1]/", "reserved"],
    ["https://169.254.169.254/latest/meta-data/", "cloud metadata"],
    ["https://169.254.1.1/", "link-local"],
    ["https://10.0.0.1/", "private"],
    ["https://192.168.0.1./", "private"],
    ["https://100.64.0.1/", "carrier-grade NAT"],
    ["https://[::]/", "unspecified"],
    ["https://0.0.0.0/", "unspecified"],
    ["https://0/", "unspecified"],
    ["https://224.0.0.1/", "multicast"],
    ["https://255.255.255.255/", "broadcast"],
    ["https://198.18.0.1/", "reserved"],
  ];
  it.each(refused)("refuses %s (%s)", (url, reason) => {
    expect(checkImageUrl(url)).toContain(reason);
  });

  it.each([
    "https://example.com/a.jpg",
    "https://EXAMPLE.com./a.jpg",
    "https://93.184.215.14/",
    "https://1572394766/", // decimal spelling of 93.184.215.14
    "https://[2606:4700::1111]/",
    "https://[64:ff9b::5db8:d70e]/", // NAT64 of 93.184.215.14
    "https://images.example.com:8443/cat.png?size=large#top",
    "https://localhost.example.com/", // only the exact name and its subdomains are local
    "https://internal.example.com/",
  ])("passes %s", (url) => {
    expect(checkImageUrl(url)).toBeUndefined();
  });

  it("refuses denied hosts case-insensitively, with or without trailing dots, IPs in any spelling", () => {
    const denyHosts = ["GPU.Example.com.", "api.example.com", "93.184.215.14", "2606:4700::1111"];
    for (const url of [
      "https://gpu.example.com/",
      "https://gpu.example.com./",
      "https://GPU.EXAMPLE.COM:8788/v1/embed",
      "https://api.example.com/",
      "https://1572394766/",
      "https://[2606:4700:0::1111]/",
    ])
      expect(checkImageUrl(url, { denyHosts }), url).toBe("this host may not be fetched");
    expect(checkImageUrl("https://cdn.example.com/", { denyHosts })).toBeUndefined();
    expect(checkImageUrl("https://sub.gpu.example.com/", { denyHosts })).toBeUndefined();
  });

  it("judges IP-literal hosts with the caller's vetting when given one", () => {
    const vetAddress = (address: string) =>
      address === "93.184.215.14" ? "this machine's own address" : undefined;
    expect(checkImageUrl("https://93.184.215.14/", { vetAddress })).toBe(
      "the host is this machine's own address",
    );
    expect(checkImageUrl("https://[::1]/", { vetAddress })).toBeUndefined();
    expect(checkImageUrl("https://localhost/", { vetAddress })).toBe("the host is a local name");
  });

  it("takes a parsed URL too", () => {
    expect(checkImageUrl(new URL("https://[::ffff:a00:1]/"))).toBe("the host is a private address");
  });
});

describe("ipLiteralHost", () => {
  it.each([
    ["https://[::1]:8443/", "::1"],
    ["https://0x7f.1/", "127.0.0.1"],
    ["https://example.com/", undefined],
    ["https://1.2.3.4.example/", undefined],
  ])("%s → %s", (url, address) => {
    expect(ipLiteralHost(new URL(url))).toBe(address);
  });
});
