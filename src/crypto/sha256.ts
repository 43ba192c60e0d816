/**
 * SHA-256 (FIPS 180-4) in plain JavaScript, synchronous. For short inputs on a hot path — the edge's cache keys,
 * hundreds per request — where `crypto.subtle.digest` costs more than the hash: each call is an asynchronous job (in
 * Node a thread-pool round trip, ~20 µs of CPU for 250 bytes against ~2 µs here) and a promise to await. The output
 * is the standard digest, bit for bit (tested against the platform's over every length up to three blocks and random
 * inputs), so keys made with either are the same keys. Not for secrets: nothing here is constant-time.
 *
 * @example sha256Base64url(new TextEncoder().encode("abc")) === "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
 */
export function sha256(bytes: Uint8Array): Uint8Array {
  return sha256After(EMPTY)(bytes);
}

/** {@link sha256} as unpadded base64url (43 characters), the form the cache keys carry. */
export function sha256Base64url(bytes: Uint8Array): string {
  return base64url(sha256(bytes));
}

/**
 * The digests of `prefix` followed by each suffix, with the prefix's whole 64-byte blocks hashed once: many keys
 * that share a long beginning (a label key's template list) cost only their own blocks each.
 *
 * @example const keyOf = sha256Base64urlAfter(utf8("[templates],")); keyOf(utf8('"dog"]')) === sha256Base64url(utf8('[templates],"dog"]'))
 */
export function sha256Base64urlAfter(prefix: Uint8Array): (suffix: Uint8Array) => string {
  const digestOf = sha256After(prefix);
  return (suffix) => base64url(digestOf(suffix));
}

function sha256After(prefix: Uint8Array): (suffix: Uint8Array) => Uint8Array {
  const shared = Int32Array.from(INITIAL_STATE);
  const prefixBlocks = Math.floor(prefix.length / 64);
  for (let block = 0; block < prefixBlocks; block++) compress(shared, prefix, block * 64);
  const carried = prefix.slice(prefixBlocks * 64);
  return (suffix) => {
    const state = Int32Array.from(shared);
    const rest = new Uint8Array(carried.length + suffix.length);
    rest.set(carried);
    rest.set(suffix, carried.length);
    const blocks = Math.floor(rest.length / 64);
    for (let block = 0; block < blocks; block++) compress(state, rest, block * 64);
    // The tail, the 0x80 marker, zeros and the message's bit length (big-endian, 64 bits) fill one block or two.
    const tailLength = rest.length % 64;
    const tail = new Uint8Array(tailLength < 56 ? 64 : 128);
    tail.set(rest.subarray(blocks * 64));
    tail[tailLength] = 0x80;
    const bits = (prefix.length + suffix.length) * 8;
    const end = tail.length;
    tail[end - 5] = Math.floor(bits / 2 ** 32) & 0xff; // lengths up to 2^40 bits; inputs here are far shorter
    tail[end - 4] = bits >>> 24;
    tail[end - 3] = (bits >>> 16) & 0xff;
    tail[end - 2] = (bits >>> 8) & 0xff;
    tail[end - 1] = bits & 0xff;
    for (let at = 0; at < end; at += 64) compress(state, tail, at);
    const digest = new Uint8Array(32);
    for (let i = 0; i < 8; i++) {
      const word = state[i] as number;
      digest[4 * i] = word >>> 24;
      digest[4 * i + 1] = (word >>> 16) & 0xff;
      digest[4 * i + 2] = (word >>> 8) & 0xff;
      digest[4 * i + 3] = word & 0xff;
    }
    return digest;
  };
}

const EMPTY = new Uint8Array(0);

/** 32 bytes as unpadded base64url: ten groups of three (four characters each), then two bytes (three characters). */
function base64url(digest: Uint8Array): string {
  let text = "";
  for (let i = 0; i < 30; i += 3) {
    const group =
      ((digest[i] as number) << 16) | ((digest[i + 1] as number) << 8) | (digest[i + 2] as number);
    text +=
      (BASE64URL[group >>> 18] as string) +
      (BASE64URL[(group >>> 12) & 63] as string) +
      (BASE64URL[(group >>> 6) & 63] as string) +
      (BASE64URL[group & 63] as string);
  }
  const last = ((digest[30] as number) << 8) | (digest[31] as number);
  return (
    text +
    (BASE64URL[last >>> 10] as string) +
    (BASE64URL[(last >>> 4) & 63] as string) +
    (BASE64URL[(last << 2) & 63] as string)
  );
}

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const INITIAL_STATE = Int32Array.of(
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
);

const K = Int32Array.of(
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
);

// The message schedule, rewritten in full by every block: safe to share, as hashing never awaits.
const W = new Int32Array(64);

/** One 64-byte block at `at` into `state`; 32-bit words as int32, so V8 keeps every step in integer registers. */
function compress(state: Int32Array, bytes: Uint8Array, at: number): void {
  for (let t = 0; t < 16; t++) {
    const i = at + 4 * t;
    W[t] =
      ((bytes[i] as number) << 24) |
      ((bytes[i + 1] as number) << 16) |
      ((bytes[i + 2] as number) << 8) |
      (bytes[i + 3] as number);
  }
  for (let t = 16; t < 64; t++) {
    const w15 = W[t - 15] as number;
    const w2 = W[t - 2] as number;
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[t] = ((W[t - 16] as number) + s0 + (W[t - 7] as number) + s1) | 0;
  }
  let a = state[0] as number;
  let b = state[1] as number;
  let c = state[2] as number;
  let d = state[3] as number;
  let e = state[4] as number;
  let f = state[5] as number;
  let g = state[6] as number;
  let h = state[7] as number;
  for (let t = 0; t < 64; t++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const choice = (e & f) ^ (~e & g);
    const t1 = (h + s1 + choice + (K[t] as number) + (W[t] as number)) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const majority = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (s0 + majority) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = ((state[0] as number) + a) | 0;
  state[1] = ((state[1] as number) + b) | 0;
  state[2] = ((state[2] as number) + c) | 0;
  state[3] = ((state[3] as number) + d) | 0;
  state[4] = ((state[4] as number) + e) | 0;
  state[5] = ((state[5] as number) + f) | 0;
  state[6] = ((state[6] as number) + g) | 0;
  state[7] = ((state[7] as number) + h) | 0;
}
