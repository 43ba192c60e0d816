import ipaddr from "ipaddr.js";

/** Why an address may not be fetched from: a closed set, so callers can count and test them. */
export type AddressRefusal =
  | "invalid"
  | "unspecified"
  | "loopback"
  | "private"
  | "link_local"
  | "carrier_grade_nat"
  | "multicast"
  | "broadcast"
  | "reserved"
  | "unique_local"
  | "site_local"
  | "metadata"
  | "teredo"
  | "not_global_unicast";

/** How each refusal reads in a message: "the host is …", "… resolves to …". */
export const ADDRESS_REFUSAL_TEXT: Record<AddressRefusal, string> = {
  invalid: "not an IP address",
  unspecified: "an unspecified address",
  loopback: "a loopback address",
  private: "a private address",
  link_local: "a link-local address",
  carrier_grade_nat: "a carrier-grade NAT address",
  multicast: "a multicast address",
  broadcast: "a broadcast address",
  reserved: "a reserved, documentation or benchmarking address",
  unique_local: "a unique-local address",
  site_local: "a site-local address",
  metadata: "a cloud metadata address",
  teredo: "a Teredo address",
  not_global_unicast: "not a global unicast address",
};

/** How an IPv6 address carried the IPv4 address it was judged by. */
export type EmbeddingKind = "ipv4-mapped" | "ipv4-compatible" | "nat64" | "6to4";

/** The IPv4 address an IPv6 address was judged by, and how it carried it. */
export interface EmbeddedIPv4 {
  kind: EmbeddingKind;
  ipv4: string;
}

/** The verdict on one address; `address` is its canonical spelling (see canonicalAddress). */
export type AddressClass =
  | { public: true; address: string; embedded?: EmbeddedIPv4 }
  | { public: false; reason: AddressRefusal; embedded?: EmbeddedIPv4 };

// Instance-metadata and platform endpoints. Most sit in ranges refused anyway and are listed for a clearer reason;
// Azure's WireServer (168.63.129.16) is in public space and would otherwise pass.
const METADATA_ADDRESSES = new Set([
  "169.254.169.254", // AWS, GCP, Azure, OpenStack, DigitalOcean …
  "169.254.169.253", // AWS VPC DNS
  "169.254.170.2", // AWS ECS task metadata
  "169.254.170.23", // AWS EKS pod identity
  "100.100.100.200", // Alibaba Cloud
  "192.0.0.192", // Oracle Cloud
  "168.63.129.16", // Azure WireServer
  "fd00:ec2::254", // AWS IMDS over IPv6
  "fd00:ec2::253", // AWS VPC DNS over IPv6
  "fd00:ec2::23", // AWS EKS pod identity over IPv6
]);

const V4_RANGES: Partial<Record<string, AddressRefusal>> = {
  unspecified: "unspecified",
  broadcast: "broadcast",
  multicast: "multicast",
  linkLocal: "link_local",
  loopback: "loopback",
  carrierGradeNat: "carrier_grade_nat",
  private: "private",
};

const V6_RANGES: Partial<Record<string, AddressRefusal>> = {
  unspecified: "unspecified",
  loopback: "loopback",
  linkLocal: "link_local",
  multicast: "multicast",
  uniqueLocal: "unique_local",
  deprecatedSiteLocal: "site_local",
  teredo: "teredo",
};

const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR("2000::/3");
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR("64:ff9b::/96");
const NAT64_LOCAL_USE = ipaddr.IPv6.parseCIDR("64:ff9b:1::/48");
const SIX_TO_FOUR = ipaddr.IPv6.parseCIDR("2002::/16");

/**
 * Whether an IP address (v4 or v6, any spelling ipaddr.js reads: `2130706433`, `0x7f.1` and `0177.0.0.1` are
 * 127.0.0.1) is public unicast — the only kind an image may be fetched from. Everything else is refused with a
 * reason: loopback, RFC 1918, link-local, CGNAT, multicast, broadcast, unspecified, reserved and documentation
 * ranges, unique- and site-local, cloud metadata, Teredo, and IPv6 outside 2000::/3. IPv6 addresses that carry an
 * IPv4 address (mapped, compatible, NAT64, 6to4) are judged by that IPv4 address, which is where a packet ends up.
 *
 * @example classifyAddress("::ffff:10.0.0.1") → { public: false, reason: "private", embedded: { kind: "ipv4-mapped", ipv4: "10.0.0.1" } }
 */
export function classifyAddress(text: string): AddressClass {
  const parsed = parseAddress(text);
  if (!parsed) return { public: false, reason: "invalid" };
  return parsed.kind() === "ipv4" ? classifyV4(parsed as ipaddr.IPv4) : classifyV6(parsed as ipaddr.IPv6);
}

/**
 * The one spelling of an address that set look-ups compare: IPv4 dotted decimal (also for IPv4-mapped IPv6), IPv6
 * compressed without zone; undefined when the text is not an address.
 *
 * @example canonicalAddress("::ffff:7f00:1") === "127.0.0.1"
 */
export function canonicalAddress(text: string): string | undefined {
  const parsed = parseAddress(text);
  if (!parsed) return undefined;
  if (parsed.kind() === "ipv4") return parsed.toString();
  const v6 = parsed as ipaddr.IPv6;
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address().toString() : withoutZone(v6);
}

function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (!ipaddr.isValid(bare)) return undefined;
  try {
    return ipaddr.parse(bare);
  } catch {
    return undefined;
  }
}

function withoutZone(address: ipaddr.IPv6): string {
  return new ipaddr.IPv6(address.parts).toString();
}

function classifyV4(address: ipaddr.IPv4): AddressClass {
  const text = address.toString();
  if (METADATA_ADDRESSES.has(text)) return { public: false, reason: "metadata" };
  const range = address.range();
  if (range === "unicast") return { public: true, address: text };
  return { public: false, reason: V4_RANGES[range] ?? "reserved" };
}

function classifyV6(address: ipaddr.IPv6): AddressClass {
  const canonical = withoutZone(address);
  if (METADATA_ADDRESSES.has(canonical)) return { public: false, reason: "metadata" };
  const range = address.range();
  // :: and ::1 sit inside the IPv4-compatible block; they are themselves, not 0.0.0.0 and 0.0.0.1.
  if (range === "unspecified" || range === "loopback") return { public: false, reason: range };
  const embedded = embeddedV4(address);
  if (embedded) return classifyEmbedded(embedded, address.isIPv4MappedAddress() ? undefined : canonical);
  const refusal = V6_RANGES[range];
  if (refusal) return { public: false, reason: refusal };
  if (address.zoneId) return { public: false, reason: "not_global_unicast" };
  if (range !== "unicast") return { public: false, reason: "reserved" };
  if (!address.match(GLOBAL_UNICAST)) return { public: false, reason: "not_global_unicast" };
  return { public: true, address: canonical };
}

/** Public only if every reading is; a refusal names the most telling reading (zero bytes read as 0.x are noise). */
function classifyEmbedded(
  { kind, candidates }: { kind: EmbeddingKind; candidates: ipaddr.IPv4[] },
  v6Spelling: string | undefined,
): AddressClass {
  const readings = candidates.map((v4) => ({ ipv4: v4.toString(), verdict: classifyV4(v4) }));
  const refused = readings.filter((r) => !r.verdict.public);
  const worst =
    refused.find((r) => r.verdict.public === false && r.verdict.reason !== "unspecified") ?? refused[0];
  if (worst) return { ...worst.verdict, embedded: { kind, ipv4: worst.ipv4 } };
  const first = readings[0] as { ipv4: string };
  return { public: true, address: v6Spelling ?? first.ipv4, embedded: { kind, ipv4: first.ipv4 } };
}

/**
 * The IPv4 address(es) an IPv6 address carries. The local-use NAT64 prefix (RFC 8215) may be any RFC 6052 length
 * from /48 to /96, and nothing in the address says which, so each position is a candidate and the address passes
 * only if public under all of them: in practice most of 64:ff9b:1::/48 is refused, which suits a local-use block.
 */
function embeddedV4(address: ipaddr.IPv6): { kind: EmbeddingKind; candidates: ipaddr.IPv4[] } | undefined {
  const bytes = address.toByteArray();
  const at = (...offsets: number[]) => new ipaddr.IPv4(offsets.map((i) => bytes[i] as number));
  if (address.isIPv4MappedAddress()) return { kind: "ipv4-mapped", candidates: [address.toIPv4Address()] };
  if (bytes.slice(0, 12).every((b) => b === 0))
    return { kind: "ipv4-compatible", candidates: [at(12, 13, 14, 15)] };
  if (address.match(NAT64_WELL_KNOWN)) return { kind: "nat64", candidates: [at(12, 13, 14, 15)] };
  if (address.match(NAT64_LOCAL_USE)) {
    // RFC 6052 §2.2: bits 64–71 are skipped, so /48 and /56 split the IPv4 address around them.
    return {
      kind: "nat64",
      candidates: [at(12, 13, 14, 15), at(9, 10, 11, 12), at(7, 9, 10, 11), at(6, 7, 9, 10)],
    };
  }
  if (address.match(SIX_TO_FOUR)) return { kind: "6to4", candidates: [at(2, 3, 4, 5)] };
  return undefined;
}
