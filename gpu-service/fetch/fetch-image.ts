import { Agent, fetch as undiciFetch } from "undici";
import {
  type AddressAllowList,
  type AddressList,
  canonicalAddress,
  checkImageUrl,
  IMAGE_FETCH_USER_AGENT,
} from "../../src/net/index.ts";
import { readCapped } from "../../src/streams/read-capped.ts";
import { type AddressPolicy, ownInterfaceAddresses, vetAddresses } from "./address-vetting.ts";
import { createDenyHostAddresses, type DenyHostAddresses } from "./deny-host-addresses.ts";
import { limitLookups } from "./lookup-slots.ts";
import { createPinnedLookup } from "./pinned-lookup.ts";
import { type ResolveHost, systemResolve } from "./resolve.ts";

/** What one fetch may do. */
export interface ImageFetchLimits {
  maxBytes: number;
  maxRedirects: number;
  /** Bounds the whole fetch: every hop, DNS included, and the body. */
  timeoutMs: number;
  /** Hosts never to reach, by name or by any address they resolve to. */
  denyHosts?: readonly string[];
}

export type ImageFetchErrorCode = "url_not_allowed" | "url_fetch_failed" | "image_too_large";

export type ImageFetchResult =
  | { ok: true; bytes: Uint8Array<ArrayBuffer>; finalUrl: string }
  | { ok: false; code: ImageFetchErrorCode; message: string };

/**
 * The one message for every failure between vetting and an HTTP response — refused, reset, TLS failure, timeout —
 * so that a closed port and an open port that does not speak HTTPS cannot be told apart.
 */
export const FETCH_FAILED_MESSAGE = "the image URL could not be fetched";

export interface ImageFetcherOptions {
  /**
   * Private-network addresses exempt from the public-unicast rule (URL_FETCH_ALLOW; empty by default): for images on
   * the deployment's own network. Loopback, link-local and metadata addresses are never exempt; the own-interface,
   * URL_FETCH_DENY and deny_hosts checks still apply.
   */
  allow?: AddressAllowList;
  /** Addresses never fetched from, public ones included (URL_FETCH_DENY). */
  deny?: AddressList;
  /** Look-ups that may run at once (URL_FETCH_LOOKUPS; lookup-slots.ts); 2 by default. */
  lookupSlots?: number;
  /** Resolves host names: the system resolver (getaddrinfo) unless injected. Capped by lookupSlots either way. */
  resolve?: ResolveHost;
  /**
   * Exact addresses to pass whatever their class, and the only certificate to trust instead of Node's defaults.
   * Nothing in the environment can set it: only code that builds its own fetcher and hands it to startService (the
   * tests' image host on loopback, test/support/gpu-test-main.ts). Operators trust their private image hosts'
   * certificates with NODE_EXTRA_CA_CERTS.
   */
  trust?: { addresses: readonly string[]; ca: string };
}

export interface ImageFetcher {
  fetch(url: string, limits: ImageFetchLimits, signal?: AbortSignal): Promise<ImageFetchResult>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Downloads a caller's image URL without letting it reach this machine or its network. Each hop is checked as text
 * (src/net checkImageUrl), then connected through a pinned look-up that vets every resolved address against the
 * public-unicast rule (bar the allow list's private networks), URL_FETCH_DENY, this machine's interface addresses
 * and what deny_hosts resolve to. Look-ups wait for one of `lookupSlots` within the fetch's timeout. Redirects are
 * followed by hand (at most `maxRedirects`), no cookies or credentials are ever sent, bodies stop at `maxBytes`.
 * Refusals before connecting name their reason (`url_not_allowed`); later failures all read FETCH_FAILED_MESSAGE.
 *
 * @example const got = await createImageFetcher().fetch(url, { maxBytes: 10 << 20, maxRedirects: 3, timeoutMs: 10_000 })
 */
export function createImageFetcher(options: ImageFetcherOptions = {}): ImageFetcher {
  // One cap for every look-up this fetcher makes: each hop's, and the deny_hosts names'.
  const resolve: ResolveHost = limitLookups(options.resolve ?? systemResolve, options.lookupSlots ?? 2);
  const denyHostAddresses: DenyHostAddresses = createDenyHostAddresses({ resolve });
  const fixed = {
    allowed: options.allow,
    refused: options.deny,
    trusted: new Set((options.trust?.addresses ?? []).map((a) => canonicalAddress(a) ?? a)),
  };
  return {
    async fetch(url, limits, signal) {
      const deadline = AbortSignal.timeout(limits.timeoutMs);
      const aborted = signal ? AbortSignal.any([deadline, signal]) : deadline;
      const denyHosts = limits.denyHosts ?? [];
      // The text first, so a refused URL costs no look-up; every hop is then checked again with the full policy.
      const textOnly: AddressPolicy = { own: new Set(), denied: new Set(), ...fixed };
      const refusal = checkImageUrl(url, { denyHosts, vetAddress: vetterFor(textOnly) });
      if (refusal) return notAllowed(refusal);
      const denied = await untilAborted(denyHostAddresses.addressesOf(denyHosts), aborted);
      if (!denied) return failed();
      const policy: AddressPolicy = { own: ownInterfaceAddresses(), denied, ...fixed };
      return fetchVetted(new URL(url), limits, policy, resolve, aborted, options.trust?.ca);
    },
  };
}

async function fetchVetted(
  start: URL,
  limits: ImageFetchLimits,
  policy: AddressPolicy,
  resolve: ResolveHost,
  signal: AbortSignal,
  ca: string | undefined,
): Promise<ImageFetchResult> {
  const seen: { refused?: string; unresolved?: boolean } = {};
  const lookup = createPinnedLookup({
    resolve,
    signal,
    vet: (addresses) => vetAddresses(addresses, policy),
    onRefused: (_host, reason) => {
      seen.refused = reason;
    },
    onUnresolved: () => {
      seen.unresolved = true;
    },
  });
  // One agent per fetch: its look-up carries this request's policy, and no connection outlives the request.
  // HTTP/1.1 only: a one-shot download gains nothing from h2, and one protocol is one less parser facing the internet.
  const agent = new Agent({ connect: { lookup, ...(ca ? { ca } : {}) }, allowH2: false });
  try {
    let url = start;
    for (let hop = 0; ; hop++) {
      const where = hop === 0 ? "" : `redirect to ${shorten(url.href)}: `;
      // IP-literal hosts never reach the look-up, so the text check vets them with the same policy.
      const refusal = checkImageUrl(url, { denyHosts: limits.denyHosts, vetAddress: vetterFor(policy) });
      if (refusal) return notAllowed(where + refusal);
      seen.refused = undefined;
      seen.unresolved = false;
      let response: Awaited<ReturnType<typeof undiciFetch>>;
      try {
        response = await undiciFetch(url, {
          dispatcher: agent,
          redirect: "manual",
          credentials: "omit",
          signal,
          headers: { accept: "image/*", "user-agent": IMAGE_FETCH_USER_AGENT },
        });
      } catch {
        if (seen.refused) return notAllowed(`${where}the host name resolves to ${seen.refused}`);
        if (seen.unresolved && !signal.aborted)
          return { ok: false, code: "url_fetch_failed", message: `${where}the host name does not resolve` };
        return failed();
      }
      const location = response.headers.get("location");
      if (REDIRECTS.has(response.status) && location !== null) {
        await response.body?.cancel().catch(() => {});
        if (hop >= limits.maxRedirects)
          return {
            ok: false,
            code: "url_fetch_failed",
            message: `the image URL redirected more than ${limits.maxRedirects} times`,
          };
        const next = URL.parse(location, url);
        if (!next) return notAllowed(`the image URL redirected to an invalid URL`);
        url = next;
        continue;
      }
      if (!response.ok) {
        await response.body?.cancel().catch(() => {});
        return { ok: false, code: "url_fetch_failed", message: `the image URL answered ${response.status}` };
      }
      return await readBody(response, url, limits.maxBytes);
    }
  } finally {
    agent.destroy().catch(() => {});
  }
}

async function readBody(
  response: Awaited<ReturnType<typeof undiciFetch>>,
  url: URL,
  maxBytes: number,
): Promise<ImageFetchResult> {
  const tooLarge = {
    ok: false as const,
    code: "image_too_large" as const,
    message: `the image is larger than ${maxBytes} bytes`,
  };
  if (Number(response.headers.get("content-length")) > maxBytes) {
    await response.body?.cancel().catch(() => {});
    return tooLarge;
  }
  try {
    const read = await readCapped(response.body as ReadableStream<Uint8Array> | null, maxBytes);
    // Network chunks are never views of a SharedArrayBuffer, so the bytes can be a Response body as they are.
    return read.ok
      ? { ok: true, bytes: read.bytes as Uint8Array<ArrayBuffer>, finalUrl: url.href }
      : tooLarge;
  } catch {
    return failed();
  }
}

function vetterFor(policy: AddressPolicy): (address: string) => string | undefined {
  return function vetLiteral(address) {
    const vetting = vetAddresses([address], policy);
    return vetting.ok ? undefined : vetting.reason;
  };
}

/** A redirect target as messages show it: the remote server chose it, so its length is bounded here. */
function shorten(href: string): string {
  return href.length > 200 ? `${href.slice(0, 200)}…` : href;
}

function notAllowed(message: string): ImageFetchResult {
  return { ok: false, code: "url_not_allowed", message };
}

function failed(): ImageFetchResult {
  return { ok: false, code: "url_fetch_failed", message: FETCH_FAILED_MESSAGE };
}

/** The promise's value, or undefined once the signal fires first (a look-up cannot itself be cancelled). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      () => resolve(undefined),
    );
  });
}
