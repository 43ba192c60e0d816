import ipaddr from "ipaddr.js";
import { ADDRESS_REFUSAL_TEXT, type AddressRefusal, classifyAddress } from "./address.ts";
import { type AddressList, type AddressRange, EMPTY_ADDRESS_LIST, parseAddressList } from "./address-list.ts";

/**
 * Addresses an operator lets image URLs reach although they are not public (URL_FETCH_ALLOW on the GPU tier,
 * IMAGE_URL_ALLOW at the edge): a deployment whose images live on its own private network. Empty by default.
 * Only what parseAllowList accepted should be one, and exemptedByAllowList applies the class rule again anyway.
 */
export type AddressAllowList = AddressList;

export const EMPTY_ALLOW_LIST: AddressAllowList = EMPTY_ADDRESS_LIST;

/**
 * The only classes an allow list may open: networks an organisation numbers its own hosts in. Never loopback (this
 * machine), unspecified (0.0.0.0 reaches this machine too), link-local (metadata services live there), multicast,
 * broadcast, Teredo, reserved or documentation ranges (nobody's hosts are numbered there), nor a metadata address
 * even inside an allowed range (fd00:ec2::254 is unique-local, 100.100.100.200 is CGNAT).
 */
const EXEMPTABLE: ReadonlySet<AddressRefusal> = new Set<AddressRefusal>([
  "private",
  "unique_local",
  "carrier_grade_nat",
  "site_local",
]);

/** Where an entry must lie: RFC 1918, RFC 6598 CGNAT, RFC 4193 unique-local, deprecated site-local. */
const EXEMPTABLE_BLOCKS = [
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "100.64.0.0/10",
  "fc00::/7",
  "fec0::/10",
].map((cidr) => ipaddr.parseCIDR(cidr));

/** No entry may be wider than this: a typo like `/1` must not open half the private space at once. */
const MIN_PREFIX = { ipv4: 8, ipv6: 16 } as const;

const ALLOWED_TEXT =
  "only private networks may be allowed (inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, " +
  "fc00::/7 or fec0::/10, at most /8 wide for IPv4 and /16 for IPv6)";

/**
 * Parses URL_FETCH_ALLOW / IMAGE_URL_ALLOW: comma-separated addresses and CIDR ranges, each wholly inside a private
 * network class and no wider than /8 (IPv4) or /16 (IPv6). Anything else — loopback, link-local, metadata, public,
 * `0.0.0.0/0` — is refused here, at start-up, with a message naming the entry.
 *
 * @example parseAllowList("10.20.0.0/16") → { ok: true, list } where exemptedByAllowList("10.20.3.4", list) === true
 * @example parseAllowList("127.0.0.0/8") → { ok: false, message: '"127.0.0.0/8" holds a loopback address, …' }
 */
export function parseAllowList(
  text: string | undefined,
): { ok: true; list: AddressAllowList } | { ok: false; message: string } {
  return parseAddressList(text, refuseForAllowList);
}

/**
 * Whether an address the public-unicast rule refuses may still be fetched because the allow list exempts it: only
 * when its class is a private-network one (never loopback, link-local, metadata …) and the list holds it. False for
 * a public address (it needs no exemption). Both tiers judge IP addresses with this one rule.
 *
 * @example exemptedByAllowList("10.20.3.4", list) === true; exemptedByAllowList("127.0.0.1", anyList) === false
 */
export function exemptedByAllowList(address: string, list: AddressAllowList): boolean {
  const verdict = classifyAddress(address);
  return !verdict.public && EXEMPTABLE.has(verdict.reason) && list.has(address);
}

function refuseForAllowList(range: AddressRange): string | undefined {
  const verdict = classifyAddress(range.address.toString());
  if (verdict.public) return `"${range.entry}" is public and needs no allow list; ${ALLOWED_TEXT}`;
  if (!EXEMPTABLE.has(verdict.reason))
    return `"${range.entry}" ${range.single ? "is" : "holds"} ${ADDRESS_REFUSAL_TEXT[verdict.reason]}, which no allow list may open; ${ALLOWED_TEXT}`;
  const kind = range.address.kind();
  if (range.bits < MIN_PREFIX[kind])
    return `"${range.entry}" is wider than /${MIN_PREFIX[kind]}; ${ALLOWED_TEXT}`;
  const inside = EXEMPTABLE_BLOCKS.some(
    ([block, bits]) => block.kind() === kind && range.bits >= bits && range.address.match(block, bits),
  );
  return inside ? undefined : `"${range.entry}" reaches beyond the private ranges; ${ALLOWED_TEXT}`;
}
