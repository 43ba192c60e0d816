import { lookup } from "node:dns/promises";

/**
 * One look-up answer: every address of a host, as getaddrinfo gives them (so /etc/hosts is honoured). `signal` bounds
 * only the wait for a look-up slot (lookup-slots.ts); a look-up that has started cannot be cancelled.
 */
export type ResolveHost = (
  host: string,
  signal?: AbortSignal,
) => Promise<readonly { address: string; family: number }[]>;

/** The system resolver; `verbatim` keeps its order, which is the order a connection tries them in. */
export const systemResolve: ResolveHost = (host) => lookup(host, { all: true, order: "verbatim" });

/** Host names compare in one spelling: lower case, without the trailing dots that make a name absolute. */
export function comparableName(host: string): string {
  return host.trim().toLowerCase().replace(/\.+$/, "");
}
