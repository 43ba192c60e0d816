import { canonicalAddress } from "../../src/net/index.ts";
import { comparableName, type ResolveHost, systemResolve } from "./resolve.ts";

export interface DenyHostAddressesOptions {
  resolve?: ResolveHost;
  /** How long an answer is reused: short, so a moved backend is not let through for long. */
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

/** The addresses a request's deny_hosts stand for. */
export interface DenyHostAddresses {
  addressesOf(hosts: readonly string[]): Promise<Set<string>>;
}

interface Entry {
  addresses: Promise<string[]>;
  expires: number;
}

/**
 * Resolves deny-listed hosts to the addresses a URL could name instead of them, with a small cache: the edge
 * sends the same few names (its own, its backends') with every request. IP entries stand for themselves. A host
 * that does not resolve denies nothing (it is not cached), since no connection could reach it by name either.
 *
 * @example await createDenyHostAddresses().addressesOf(["localhost"]) → Set { "127.0.0.1", "::1" }
 */
export function createDenyHostAddresses(options: DenyHostAddressesOptions = {}): DenyHostAddresses {
  const resolve = options.resolve ?? systemResolve;
  const ttlMs = options.ttlMs ?? 30_000;
  const maxEntries = options.maxEntries ?? 256;
  const now = options.now ?? Date.now;
  const cache = new Map<string, Entry>();

  function addressesOfOne(host: string): Promise<string[]> {
    const literal = canonicalAddress(host);
    if (literal !== undefined) return Promise.resolve([literal]);
    const name = comparableName(host);
    const cached = cache.get(name);
    if (cached && cached.expires > now()) return cached.addresses;
    cache.delete(name);
    const addresses = resolve(name).then(
      (answer) => answer.flatMap((a) => canonicalAddress(a.address) ?? []),
      () => {
        cache.delete(name);
        return [];
      },
    );
    // Maps iterate in insertion order, so the first key is the oldest entry.
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
    cache.set(name, { addresses, expires: now() + ttlMs });
    return addresses;
  }

  return {
    async addressesOf(hosts) {
      const answers = await Promise.all(hosts.map(addressesOfOne));
      return new Set(answers.flat());
    },
  };
}
