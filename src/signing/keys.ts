/**
 * HMAC keys, imported once per secret and cached: importKey costs more than the MAC itself on small bodies.
 *
 * The cache is keyed by the secret string. That keeps nothing in memory the process did not already hold
 * (the secret comes from the environment), and the cache is module-private and never logged.
 */

/** Below this a shared secret is too guessable to protect the GPU tier; 32 bytes is `openssl rand -hex 16`. */
export const MIN_SECRET_BYTES = 32;

// A handful covers the current secret plus one being rotated in; bounded so a bug cannot grow it forever.
const MAX_CACHED_KEYS = 8;

const encoder = new TextEncoder();
const cache = new Map<string, Promise<CryptoKey>>();

export type SecretCheck = { ok: true } | { ok: false; code: "invalid_secret"; message: string };

/**
 * Validates a configured secret once at start-up, so a bad deployment fails with a clear code instead of
 * every request returning 401.
 *
 * @example
 * checkSecret(env.GPU_SHARED_SECRET) // { ok: false, code: "invalid_secret", message: "…at least 32 bytes…" }
 */
export function checkSecret(secret: unknown): SecretCheck {
  if (typeof secret !== "string" || encoder.encode(secret).length < MIN_SECRET_BYTES) {
    // Never include the value itself in the message: it may be a real (if short) secret.
    return {
      ok: false,
      code: "invalid_secret",
      message: `GPU_SHARED_SECRET must be a string of at least ${MIN_SECRET_BYTES} bytes`,
    };
  }
  return { ok: true };
}

/**
 * The cached HMAC-SHA256 key for `secret`. Throws a TypeError for an invalid secret: callers are expected
 * to have run {@link checkSecret} at start-up, so reaching this with a bad one is a bug.
 */
export function hmacKeyFor(secret: string): Promise<CryptoKey> {
  const cached = cache.get(secret);
  if (cached) return cached;
  const check = checkSecret(secret);
  if (!check.ok) throw new TypeError(check.message);

  const key = crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
  // A failed import must not poison the cache for later calls.
  key.catch(() => cache.delete(secret));
  if (cache.size >= MAX_CACHED_KEYS) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  cache.set(secret, key);
  return key;
}

/** For tests: how many keys are cached (never the keys or secrets themselves). */
export function cachedKeyCount(): number {
  return cache.size;
}
