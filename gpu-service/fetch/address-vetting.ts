import { networkInterfaces } from "node:os";
import {
  ADDRESS_REFUSAL_TEXT,
  type AddressAllowList,
  type AddressList,
  canonicalAddress,
  classifyAddress,
  exemptedByAllowList,
} from "../../src/net/index.ts";

/** What one fetch refuses besides non-public addresses. All sets hold canonical spellings (canonicalAddress). */
export interface AddressPolicy {
  /** This machine's own addresses: a public one would lead straight back to this service's listener. */
  own: ReadonlySet<string>;
  /** What the request's deny_hosts resolve to (the edge's and the backends' names). */
  denied: ReadonlySet<string>;
  /**
   * Addresses the operator lets URLs reach although they are not public (URL_FETCH_ALLOW: images on the deployment's
   * own network). Empty by default; only private-network classes can be opened (src/net exemptedByAllowList).
   */
  allowed?: AddressAllowList;
  /**
   * Addresses always refused, public ones included (URL_FETCH_DENY): this host's public address under 1:1 NAT, which
   * is on no interface, or the backends' own network.
   */
  refused?: AddressList;
  /**
   * Exact addresses passed whatever their class, still subject to the checks after it. Never read from the
   * environment: only code that builds its own fetcher can set it (the test entry point's image host on loopback).
   */
  trusted?: ReadonlySet<string>;
}

/** Every address in a look-up answer passed, or why the first refused one was refused ("a loopback address"). */
export type Vetting = { ok: true } | { ok: false; reason: string };

/**
 * Vets every address a host resolved to; one refused address refuses the host, since the connection may use any.
 *
 * @example vetAddresses(["93.184.215.14", "10.0.0.1"], policy) → { ok: false, reason: "a private address" }
 */
export function vetAddresses(addresses: readonly string[], policy: AddressPolicy): Vetting {
  if (addresses.length === 0) return { ok: false, reason: ADDRESS_REFUSAL_TEXT.invalid };
  for (const address of addresses) {
    const canonical = canonicalAddress(address);
    if (canonical === undefined) return { ok: false, reason: ADDRESS_REFUSAL_TEXT.invalid };
    const verdict = classifyAddress(canonical);
    const exempted =
      (policy.allowed !== undefined && exemptedByAllowList(canonical, policy.allowed)) ||
      policy.trusted?.has(canonical) === true;
    if (!verdict.public && !exempted) return { ok: false, reason: ADDRESS_REFUSAL_TEXT[verdict.reason] };
    if (policy.refused?.has(canonical))
      return { ok: false, reason: "an address this service never fetches from" };
    if (policy.denied.has(canonical)) return { ok: false, reason: "an address of a denied host" };
    if (policy.own.has(canonical)) return { ok: false, reason: "this machine's own address" };
  }
  return { ok: true };
}

/**
 * The addresses of this machine's interfaces, read at each call (DHCP and hot-plugged interfaces change them).
 *
 * @example ownInterfaceAddresses().has("127.0.0.1") === true
 */
export function ownInterfaceAddresses(
  interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces(),
): Set<string> {
  const own = new Set<string>();
  for (const entries of Object.values(interfaces)) {
    for (const entry of entries ?? []) {
      const canonical = canonicalAddress(entry.address);
      if (canonical !== undefined) own.add(canonical);
    }
  }
  return own;
}
