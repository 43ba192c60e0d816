import { readCapped } from "../../../src/streams/read-capped.ts";

export interface FetchImageOptions {
  maxBytes: number;
  maxRedirects: number;
  timeoutMs: number;
  fetch?: typeof fetch;
}

export type FetchedImage =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; code: "invalid_image_url" | "url_fetch_failed" | "image_too_large"; message: string };

/**
 * Checks that a caller-supplied URL is one we may fetch: https, no credentials, a host name or public IP — never
 * loopback, private, link-local or metadata addresses, which would let callers probe our network.
 *
 * @example checkImageUrl("http://x.test/a.jpg") → "image URLs must use https"
 */
export function checkImageUrl(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "not a valid URL";
  }
  if (url.protocol !== "https:") return "image URLs must use https";
  if (url.username || url.password) return "image URLs must not carry credentials";
  const host = url.hostname.toLowerCase();
  if (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    host.endsWith(".internal") ||
    host.endsWith(".local")
  )
    return "this host may not be fetched";
  if (isPrivateAddress(host)) return "private, loopback and link-local addresses may not be fetched";
  return undefined;
}

/**
 * Downloads an image for a request: https only, redirects followed by hand (each hop re-checked, at most
 * `maxRedirects`), no cookies or credentials sent, the body cut off past `maxBytes`, the whole fetch bounded by
 * `timeoutMs`. Whether the bytes are an image is checked by the caller from magic bytes, not the Content-Type.
 */
export async function fetchImageUrl(raw: string, options: FetchImageOptions): Promise<FetchedImage> {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const signal = AbortSignal.timeout(options.timeoutMs);
  let url = raw;
  try {
    for (let hop = 0; ; hop++) {
      const problem = checkImageUrl(url);
      if (problem)
        return {
          ok: false,
          code: "invalid_image_url",
          message: hop === 0 ? problem : `redirect to ${url}: ${problem}`,
        };
      const response = await doFetch(url, { redirect: "manual", signal, headers: { accept: "image/*" } });
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        if (hop >= options.maxRedirects)
          return {
            ok: false,
            code: "url_fetch_failed",
            message: `more than ${options.maxRedirects} redirects`,
          };
        url = new URL(location, url).toString();
        continue;
      }
      if (!response.ok) {
        await response.body?.cancel();
        return { ok: false, code: "url_fetch_failed", message: `the image URL answered ${response.status}` };
      }
      return await readImageBody(response, options.maxBytes);
    }
  } catch (error) {
    if (signal.aborted)
      return {
        ok: false,
        code: "url_fetch_failed",
        message: `the image URL did not answer within ${options.timeoutMs} ms`,
      };
    return {
      ok: false,
      code: "url_fetch_failed",
      message: `the image URL could not be fetched (${(error as Error).message})`,
    };
  }
}

async function readImageBody(response: Response, maxBytes: number): Promise<FetchedImage> {
  const declared = Number(response.headers.get("content-length"));
  const tooLarge = {
    ok: false as const,
    code: "image_too_large" as const,
    message: `the image is larger than ${maxBytes} bytes`,
  };
  if (declared > maxBytes) {
    await response.body?.cancel();
    return tooLarge;
  }
  const read = await readCapped(response.body, maxBytes);
  return read.ok ? { ok: true, bytes: read.bytes } : tooLarge;
}

// IPv4 literals in private/reserved ranges and IPv6 loopback, link-local, unique-local and mapped forms.
function isPrivateAddress(host: string): boolean {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127) ||
      a >= 224
    );
  }
  if (host.startsWith("[")) {
    const v6 = host.slice(1, -1);
    return (
      v6 === "::1" || v6 === "::" || /^f[cd]/.test(v6) || /^fe[89ab]/.test(v6) || v6.startsWith("::ffff:")
    );
  }
  // Hosts written as plain integers or hex (http://2130706433/) are refused: URL parsing already normalises most.
  return /^[0-9]+$/.test(host) || /^0x[0-9a-f]+$/.test(host);
}
