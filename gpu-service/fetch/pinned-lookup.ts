import type { LookupAddress, LookupOptions } from "node:dns";
import type { LookupFunction } from "node:net";
import type { Vetting } from "./address-vetting.ts";
import type { ResolveHost } from "./resolve.ts";

export interface PinnedLookupOptions {
  resolve: ResolveHost;
  vet: (addresses: readonly string[]) => Vetting;
  /** Told why a host was refused, so the fetch can name the reason (the socket error it causes says nothing). */
  onRefused: (host: string, reason: string) => void;
  /** Told that a host did not resolve at all. */
  onUnresolved: (host: string) => void;
  /** The fetch's own: bounds the wait for a look-up slot. */
  signal?: AbortSignal;
}

/** The error a refused host fails its connection with; never shown to callers. */
export class RefusedHostError extends Error {
  override name = "RefusedHostError";
  readonly code = "ERR_HOST_REFUSED";
}

/**
 * A `lookup` for net/tls.connect that resolves the host once, vets every address it resolved to, and hands the
 * socket exactly those addresses — so the addresses checked are the addresses connected to, and a DNS answer that
 * changes between a check and the connect (rebinding) has no window. Any refused address refuses the host.
 *
 * @example new Agent({ connect: { lookup: createPinnedLookup({ resolve, vet, onRefused, onUnresolved }) } })
 */
export function createPinnedLookup(options: PinnedLookupOptions): LookupFunction {
  return function pinnedLookup(hostname, lookupOptions: LookupOptions, callback) {
    const host = hostname.startsWith("[") ? hostname.slice(1, -1) : hostname;
    options.resolve(host, options.signal).then(
      function vetAnswer(answer) {
        const vetting = options.vet(answer.map((a) => a.address));
        if (!vetting.ok) {
          options.onRefused(host, vetting.reason);
          return callback(new RefusedHostError(`${host} resolves to ${vetting.reason}`), "", 0);
        }
        const wanted = lookupOptions.family === 4 || lookupOptions.family === 6 ? lookupOptions.family : 0;
        const usable: LookupAddress[] = answer
          .filter((a) => wanted === 0 || a.family === wanted)
          .map((a) => ({ address: a.address, family: a.family }));
        const first = usable[0];
        if (!first) {
          options.onUnresolved(host);
          return callback(
            Object.assign(new Error(`${host} has no IPv${wanted} address`), { code: "ENOTFOUND" }),
            "",
            0,
          );
        }
        if (lookupOptions.all) callback(null, usable);
        else callback(null, first.address, first.family);
      },
      function resolveFailed(error: NodeJS.ErrnoException) {
        options.onUnresolved(host);
        callback(error, "", 0);
      },
    );
  };
}
