import { ADDRESS_REFUSAL_TEXT, canonicalAddress, classifyAddress } from "./address.ts";

export interface ImageUrlCheckOptions {
  /**
   * Host names (or IP addresses) that may never be fetched, e.g. the service's own and its backends' names.
   * Compared exactly, case-insensitively, trailing dots ignored.
   */
  denyHosts?: readonly string[];
  /**
   * Judges an IP-literal host: why it is refused ("a loopback address"), or undefined. Defaults to the public-unicast
   * rule (classifyAddress); the GPU tier passes one that also refuses this machine's own addresses.
   */
  vetAddress?: (address: string) => string | undefined;
}

function publicUnicast(address: string): string | undefined {
  const verdict = classifyAddress(address);
  return verdict.public ? undefined : ADDRESS_REFUSAL_TEXT[verdict.reason];
}

// Names that never mean a public host (each also matches itself, so "localhost" is refused): RFC 6761 localhost, mDNS, the private-use TLDs and the names resolvers and
// cloud providers use for internal ones (metadata.google.internal, *.ec2.internal, router.home.arpa).
const LOCAL_SUFFIXES = [".localhost", ".local", ".internal", ".home.arpa", ".localdomain"];

/**
 * What both tiers check in an image URL before any network work, from its text alone: https, no credentials, not a
 * local name (`localhost`, `*.localhost`, `*.local`, `*.internal`, `*.home.arpa`, `*.localdomain`), an IP-literal
 * host only when public (every spelling the URL parser accepts, e.g. `https://2130706433/` is 127.0.0.1), and not a
 * denied host. Returns why the URL is refused, or undefined. A host *name* that passes may still resolve to a
 * private address: the GPU tier resolves and vets it before connecting (gpu-service/fetch/).
 *
 * @example checkImageUrl("https://0x7f.1/cat.jpg") → "the host is a loopback address"
 */
export function checkImageUrl(raw: string | URL, options: ImageUrlCheckOptions = {}): string | undefined {
  let url: URL;
  try {
    url = typeof raw === "string" ? new URL(raw) : raw;
  } catch {
    return "not a valid URL";
  }
  if (url.protocol !== "https:") return "image URLs must use https";
  if (url.username || url.password) return "image URLs must not carry credentials";
  const host = comparableHost(url.hostname);
  if (host === "") return "the URL has no host";
  const address = ipLiteralHost(url);
  if (address !== undefined) {
    const refused = (options.vetAddress ?? publicUnicast)(address);
    if (refused !== undefined) return `the host is ${refused}`;
  } else if (LOCAL_SUFFIXES.some((suffix) => `.${host}`.endsWith(suffix))) {
    return "the host is a local name";
  }
  if (options.denyHosts?.some((denied) => comparableHost(denied) === host))
    return "this host may not be fetched";
  return undefined;
}

/**
 * The IP address a URL names as its host, without brackets, or undefined for a host name. The WHATWG parser has
 * already turned every IPv4 spelling into dotted decimal and bracketed every IPv6 one.
 *
 * @example ipLiteralHost(new URL("https://[::1]:8443/")) === "::1"
 */
export function ipLiteralHost(url: URL): string | undefined {
  const host = url.hostname;
  if (host.startsWith("[") && host.endsWith("]")) return host.slice(1, -1);
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) ? host : undefined;
}

/** One spelling per host for comparisons: what the URL parser makes of it, lower case, no trailing dots, IPs canonical. */
function comparableHost(host: string): string {
  let name = host.trim();
  try {
    name = new URL(`https://${name.includes(":") && !name.startsWith("[") ? `[${name}]` : name}/`).hostname;
  } catch {
    // Not a valid host at all; compare its plain text, which will match nothing a parsed URL holds.
  }
  name = name.toLowerCase().replace(/\.+$/, "");
  return canonicalAddress(name) ?? name;
}
