import { bodyHashHex, canonicalMessage, hexToBytes, type SignedBody } from "./canonical.ts";
import { hmacKeyFor } from "./keys.ts";
import { SIGNATURE_HEADER, SIGNATURE_SCHEME, TIMESTAMP_HEADER } from "./sign.ts";

/** Every way verification can fail. All of them mean HTTP 401; the code is for logs and metrics. */
export const VerifyErrorCode = {
  missing_signature: "missing_signature",
  missing_timestamp: "missing_timestamp",
  malformed_signature: "malformed_signature",
  malformed_timestamp: "malformed_timestamp",
  stale_timestamp: "stale_timestamp",
  bad_signature: "bad_signature",
} as const;
export type VerifyErrorCode = (typeof VerifyErrorCode)[keyof typeof VerifyErrorCode];

export type VerifyResult = { ok: true } | { ok: false; code: VerifyErrorCode; message: string };

/** Either a fetch `Headers` or a plain object such as Node's `IncomingHttpHeaders` (any key case). */
export type HeaderSource = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

export const DEFAULT_WINDOW_SECONDS = 60;

export interface VerifyRequestInput {
  /** The current secret, or several during a rotation (any one of them may have signed). */
  secret: string | readonly string[];
  method: string;
  /** Path plus query string as received; see `signedPathOf`. */
  path: string;
  body?: SignedBody;
  headers: HeaderSource;
  /** Milliseconds since the epoch; defaults to `Date.now()`. */
  now?: number;
  /** Accepted clock skew in either direction, inclusive. Defaults to 60. */
  windowSeconds?: number;
}

// 64 hex chars = 32 bytes of HMAC-SHA256. Anything else cannot verify, so it is rejected before any crypto.
const SIGNATURE_PATTERN = /^v1=([0-9a-fA-F]{64})$/;
// Up to 12 digits covers every plausible Unix time and keeps Number parsing exact.
const TIMESTAMP_PATTERN = /^[0-9]{1,12}$/;

/**
 * Verifies a signed request. The MAC comparison is `crypto.subtle.verify`, which compares in constant time
 * (CRYPTO_memcmp in both Node and workerd), so no byte-by-byte early exit leaks the expected signature.
 * Messages never contain the secret or the expected signature.
 *
 * Replays inside the window are not detected: every route behind it is an idempotent, side-effect-free
 * embedding call, so a replay only costs GPU time an attacker could not otherwise cause without the secret.
 *
 * @example
 * const result = await verifyRequest({ secret, method: c.req.method, path: signedPathOf(c.req.url),
 *   body: new Uint8Array(await c.req.arrayBuffer()), headers: c.req.raw.headers });
 * if (!result.ok) return c.json({ error: result.code }, 401);
 */
export async function verifyRequest(input: VerifyRequestInput): Promise<VerifyResult> {
  const timestampHeader = readHeader(input.headers, TIMESTAMP_HEADER);
  const signatureHeader = readHeader(input.headers, SIGNATURE_HEADER);
  if (signatureHeader === undefined) {
    return fail("missing_signature", `missing ${SIGNATURE_HEADER} header`);
  }
  if (timestampHeader === undefined) {
    return fail("missing_timestamp", `missing ${TIMESTAMP_HEADER} header`);
  }
  if (!TIMESTAMP_PATTERN.test(timestampHeader)) {
    return fail("malformed_timestamp", `${TIMESTAMP_HEADER} must be Unix seconds`);
  }
  const match = SIGNATURE_PATTERN.exec(signatureHeader);
  const mac = match?.[1] === undefined ? undefined : hexToBytes(match[1]);
  if (mac === undefined) {
    return fail("malformed_signature", `${SIGNATURE_HEADER} must be "${SIGNATURE_SCHEME}=" and 64 hex chars`);
  }

  const window = input.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
  const now = input.now ?? Date.now();
  // NaN would make every skew comparison false and so accept any timestamp: fail closed, loudly.
  if (!(Number.isFinite(window) && window >= 0 && Number.isFinite(now))) {
    throw new RangeError("verifyRequest: windowSeconds and now must be finite, windowSeconds ≥ 0");
  }
  const nowSeconds = Math.floor(now / 1000);
  const skew = nowSeconds - Number(timestampHeader);
  if (Math.abs(skew) > window) {
    const direction = skew > 0 ? "old" : "far in the future";
    return fail("stale_timestamp", `timestamp is ${Math.abs(skew)} s ${direction}; window is ±${window} s`);
  }

  const message = new TextEncoder().encode(
    canonicalMessage(timestampHeader, input.method, input.path, await bodyHashHex(input.body)),
  );
  const secrets = typeof input.secret === "string" ? [input.secret] : input.secret;
  for (const secret of secrets) {
    if (await crypto.subtle.verify("HMAC", await hmacKeyFor(secret), mac, message)) return { ok: true };
  }
  return fail("bad_signature", "signature does not match");
}

function fail(code: VerifyErrorCode, message: string): VerifyResult {
  return { ok: false, code, message };
}

/** One header value, or `undefined` when absent or sent more than once (which a signer never does). */
function readHeader(headers: HeaderSource, name: string): string | undefined {
  if (isFetchHeaders(headers)) return headers.get(name) ?? undefined;
  const wanted = name.toLowerCase();
  let found: string | undefined;
  let seen = 0;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    seen += typeof value === "string" ? 1 : value.length;
    found = typeof value === "string" ? value : value[0];
  }
  return seen === 1 ? found : undefined;
}

function isFetchHeaders(headers: HeaderSource): headers is Headers {
  return typeof (headers as Headers).get === "function" && typeof (headers as Headers).has === "function";
}
