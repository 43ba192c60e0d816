import ipaddr from "ipaddr.js";
import { canonicalAddress } from "./address.ts";

/** Addresses and CIDR ranges read from configuration (URL_FETCH_ALLOW, URL_FETCH_DENY, IMAGE_URL_ALLOW). */
export interface AddressList {
  /** Whether the address, in any spelling (`::ffff:10.0.0.1` is 10.0.0.1), is listed or inside a listed range. */
  has(address: string): boolean;
  /** As configured, for the start-up log. */
  readonly entries: readonly string[];
}

/** One parsed entry: the range's first address and its prefix length (32 or 128 for a single address). */
export interface AddressRange {
  entry: string;
  address: ipaddr.IPv4 | ipaddr.IPv6;
  bits: number;
  /** Written without a prefix: one address, not a range. */
  single: boolean;
}

export type AddressListResult = { ok: true; list: AddressList } | { ok: false; message: string };

export const EMPTY_ADDRESS_LIST: AddressList = { has: () => false, entries: [] };

/**
 * Parses a comma-separated list of addresses and CIDR ranges (`10.20.0.0/16, fd12::/48, 192.168.1.7`). `refuse`
 * may turn an entry down with a reason (the allow list's rule); the first refused or unreadable entry is named.
 *
 * @example parseAddressList("203.0.113.7, 10.9.0.0/16") → { ok: true, list } where list.has("10.9.1.2") === true
 */
export function parseAddressList(
  text: string | undefined,
  refuse: (range: AddressRange) => string | undefined = () => undefined,
): AddressListResult {
  const entries = (text ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) return { ok: true, list: EMPTY_ADDRESS_LIST };
  const ranges: AddressRange[] = [];
  for (const entry of entries) {
    const range = parseEntry(entry);
    if (!range) return { ok: false, message: `"${entry}" is neither an IP address nor a CIDR range` };
    const refusal = refuse(range);
    if (refusal !== undefined) return { ok: false, message: refusal };
    ranges.push(range);
  }
  return {
    ok: true,
    list: {
      entries,
      has(address) {
        const canonical = canonicalAddress(address);
        if (canonical === undefined) return false;
        const parsed = ipaddr.parse(canonical);
        return ranges.some((r) => r.address.kind() === parsed.kind() && parsed.match(r.address, r.bits));
      },
    },
  };
}

function parseEntry(entry: string): AddressRange | undefined {
  try {
    if (entry.includes("/")) {
      const [address, bits] = ipaddr.parseCIDR(entry);
      return { entry, address, bits, single: false };
    }
  } catch {
    return undefined;
  }
  const canonical = canonicalAddress(entry);
  if (canonical === undefined) return undefined;
  const address = ipaddr.parse(canonical);
  return { entry, address, bits: address.kind() === "ipv4" ? 32 : 128, single: true };
}
