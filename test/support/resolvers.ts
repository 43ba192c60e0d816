import { type ResolveHost, systemResolve } from "../../gpu-service/fetch/index.ts";

/** A resolver injected into the image fetcher, and the names it was asked for, in order. */
export type CountingResolver = ResolveHost & { calls: string[] };

/**
 * A resolver that answers from a table, counting its calls; a name missing from it fails with ENOTFOUND. An entry
 * that is a list of answers answers differently on each call for that name (the last one again once used up): a
 * rebinding name.
 *
 * @example tableResolver({ "rebind.test": [["127.0.0.2"], ["127.0.0.1"]] })
 */
export function tableResolver(table: Record<string, string[] | string[][]>): CountingResolver {
  const calls: string[] = [];
  const resolve = async (host: string) => {
    calls.push(host);
    const entry = table[host];
    if (!entry) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    const asked = calls.filter((name) => name === host).length;
    const answer = (
      Array.isArray(entry[0]) ? entry[Math.min(asked - 1, entry.length - 1)] : entry
    ) as string[];
    return answer.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return Object.assign(resolve, { calls });
}

/**
 * The system resolver, except for the given test names (`images.test` → 127.0.0.2): how a test GPU process reaches
 * its image host by a name that passes the edge's text check, while every other name resolves as in production.
 *
 * @example resolvingTestNames({ "images.test": "127.0.0.2" })
 */
export function resolvingTestNames(
  names: Record<string, string>,
  fallback: ResolveHost = systemResolve,
): ResolveHost {
  return async function resolveTestName(host, signal) {
    const address = names[host.toLowerCase().replace(/\.+$/, "")];
    if (address === undefined) return fallback(host, signal);
    return [{ address, family: address.includes(":") ? 6 : 4 }];
  };
}
