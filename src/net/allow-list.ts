import ipaddr from "ipaddr.js";
import { canonicalAddress } from "./address.ts";

/**
 * Addresses an operator lets image URLs reach although they are not public: a deployment whose images live on its
 * own private network (an on-premises photo store). Empty by default; cloud metadata addresses stay refused whatever
 * the list says.
 */
export interface AddressAllowList {
  has(address: string): boolean;
  /** As configured, for the start-up log. */
  readonly entries: readonly string[];
}

export const EMPTY_ALLOW_LIST: AddressAllowList = { has: () => false, entries: [] };

/**
 * Parses a comma-separated list of addresses and CIDR ranges (`10.20.0.0/16, fd12::/48, 192.168.1.7`).
 *
 * @example parseAllowList("10.20.0.0/16") → { ok: true, list } where list.has("10.20.3.4") === true
 */
export function parseAllowList(
  text: string | undefined,
): { ok: true; list: AddressAllowList } | { ok: false; message: string } {
  const entries = (text ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) return { ok: true, list: EMPTY_ALLOW_LIST };
  const ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  for (const entry of entries) {
    try {
      ranges.push(entry.includes("/") ? ipaddr.parseCIDR(entry) : single(entry));
    } catch {
      return { ok: false, message: `"${entry}" is neither an IP address nor a CIDR range` };
    }
  }
  return {
    ok: true,
    list: {
      entries,
      has(address) {
        const canonical = canonicalAddress(address);
        if (canonical === undefined) return false;
        const parsed = ipaddr.parse(canonical);
        return ranges.some(([range, bits]) => range.kind() === parsed.kind() && parsed.match(range, bits));
      },
    },
  };
}

function single(entry: string): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  const canonical = canonicalAddress(entry);
  if (canonical === undefined) throw new Error("not an address");
  const parsed = ipaddr.parse(canonical);
  return [parsed, parsed.kind() === "ipv4" ? 32 : 128];
}
