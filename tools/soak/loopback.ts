/**
 * The soak creates keys, floods an edge with traffic and can kill processes: it must only ever aim at this machine.
 * A URL is accepted when its host is a loopback address as the WHATWG URL parser normalises it (so `127.1`,
 * `0x7f000001` and `[::ffff:127.0.0.1]` are the loopback addresses they spell), or `localhost` itself. Names that
 * merely contain "localhost" or "127.0.0.1" (`127.0.0.1.nip.io`, `localhost.example.com`) resolve elsewhere.
 *
 * @example isLoopbackUrl("http://127.0.0.1:8787") // { ok: true }
 * @example isLoopbackUrl("https://api.example.com") // { ok: false, reason: "…api.example.com is not a loopback address" }
 */
export function isLoopbackUrl(text: string): { ok: true; url: URL } | { ok: false; reason: string } {
  if (!URL.canParse(text)) return { ok: false, reason: `"${text}" is not a URL` };
  const url = new URL(text);
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return { ok: false, reason: `${url.protocol} is not http: or https:` };
  if (url.username || url.password) return { ok: false, reason: "the URL must not carry credentials" };
  return isLoopbackHost(url.hostname)
    ? { ok: true, url }
    : { ok: false, reason: `${url.hostname} is not a loopback address (127.0.0.0/8, ::1 or localhost)` };
}

function isLoopbackHost(hostname: string): boolean {
  if (hostname === "localhost") return true;
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(hostname);
  if (v4) return v4[1] === "127";
  if (hostname === "[::1]") return true;
  // IPv4-mapped IPv6, which the parser writes in hex: [::ffff:7f00:1] is 127.0.0.1.
  const mapped = /^\[::ffff:([0-9a-f]{1,4}):[0-9a-f]{1,4}\]$/.exec(hostname);
  return mapped !== null && Number.parseInt(mapped[1] as string, 16) >> 8 === 127;
}
