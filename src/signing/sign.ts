import { bodyHashHex, bytesToHex, canonicalMessage, type SignedBody } from "./canonical.ts";
import { hmacKeyFor } from "./keys.ts";

/** Header carrying the signing time in Unix seconds. */
export const TIMESTAMP_HEADER = "X-Clip-Timestamp";
/** Header carrying `v1=<64 lowercase hex chars>` (HMAC-SHA256 of the canonical message). */
export const SIGNATURE_HEADER = "X-Clip-Signature";
/** Scheme tag inside the signature header; bump it together with the canonical message layout. */
export const SIGNATURE_SCHEME = "v1";

export interface SignRequestInput {
  secret: string;
  method: string;
  /** Path plus query string, exactly as the receiver will see it; see `signedPathOf`. */
  path: string;
  body?: SignedBody;
  /** Milliseconds since the epoch; defaults to `Date.now()`. Injected by tests. */
  now?: number;
}

export type SignatureHeaders = Record<typeof TIMESTAMP_HEADER | typeof SIGNATURE_HEADER, string>;

/**
 * Signs an edge → GPU request. Attach the returned headers to the request unchanged.
 *
 * @example
 * const headers = await signRequest({ secret, method: "POST", path: "/v1/embed/images", body: frame });
 * await fetch(`${gpuUrl}/v1/embed/images`, { method: "POST", body: frame, headers: { ...headers } });
 * // headers: { "X-Clip-Timestamp": "1700000000", "X-Clip-Signature": "v1=5f2c…" }
 */
export async function signRequest(input: SignRequestInput): Promise<SignatureHeaders> {
  const timestamp = String(Math.floor((input.now ?? Date.now()) / 1000));
  const key = await hmacKeyFor(input.secret);
  const message = canonicalMessage(timestamp, input.method, input.path, await bodyHashHex(input.body));
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message));
  return {
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: `${SIGNATURE_SCHEME}=${bytesToHex(new Uint8Array(mac))}`,
  };
}
