import { Lru } from "../services/text-embeddings/lru.ts";
import type { KeyStore, VerifiedKey } from "./key-store.ts";

/** How old (since it was read from D1) a cached key may be; revocation reaches every cache within this. */
export const KEY_CACHE_MAX_AGE_MS = 30_000;
/** Unknown keys are remembered in the isolate only: a random 256-bit key cannot become known later. */
const UNKNOWN_MAX_AGE_MS = 300_000;
/** KV's minimum TTL; readers ignore entries older than KEY_CACHE_MAX_AGE_MS anyway. */
const KV_TTL_SECONDS = 60;
/** Writes of `last_used_at` per key per isolate. */
const TOUCH_EVERY_MS = 60_000;

/** The KV value at `key:v1:<sha256 hex>` (docs/billing.md, "KV key schema"). */
interface CachedKey {
  v: 1;
  key: VerifiedKey | null;
  /** When the value was read from D1 (ms); every cache tier judges freshness by this, not by when it cached it. */
  fetched_at: number;
}

export interface KeyDirectoryOptions {
  store: KeyStore;
  kv: KVNamespace;
  memorySize?: number;
}

/**
 * Finds a key by the SHA-256 of what the caller presented: isolate memory, then KV, then D1. Every tier keeps the
 * time the entry was read from D1, and an entry older than 30 s is read again, so a revocation written to D1 reaches
 * every isolate within 30 s (the key's Durable Object refuses it at once in any case).
 *
 * @example const key = await directory.lookup(await hashApiKey(presented), Date.now(), waitUntil)
 */
export class KeyDirectory {
  private readonly options: KeyDirectoryOptions;
  private readonly memory: Lru<string, CachedKey>;
  private readonly touched: Lru<string, number>;

  constructor(options: KeyDirectoryOptions) {
    this.options = options;
    this.memory = new Lru(options.memorySize ?? 10_000);
    this.touched = new Lru(options.memorySize ?? 10_000);
  }

  async lookup(
    keyHash: string,
    now: number,
    waitUntil: (promise: Promise<unknown>) => void,
  ): Promise<VerifiedKey | undefined> {
    const remembered = this.memory.get(keyHash);
    if (remembered && fresh(remembered, now)) return remembered.key ?? undefined;
    const kvKey = cacheKey(keyHash);
    const fromKv = await this.options.kv.get<CachedKey>(kvKey, "json").catch(() => null);
    if (fromKv?.v === 1 && fromKv.key && fresh(fromKv, now)) {
      this.memory.set(keyHash, fromKv);
      return fromKv.key;
    }
    const key = await this.options.store.findByHash(keyHash);
    const entry: CachedKey = { v: 1, key: key ?? null, fetched_at: now };
    this.memory.set(keyHash, entry);
    // Unknown keys stay out of KV: random guesses would otherwise turn into paid KV writes.
    if (key) waitUntil(this.options.kv.put(kvKey, JSON.stringify(entry), { expirationTtl: KV_TTL_SECONDS }));
    return key;
  }

  /** Records a key's new state (after a revocation) in this isolate and in KV at once. */
  async remember(keyHash: string, key: VerifiedKey, now: number): Promise<void> {
    const entry: CachedKey = { v: 1, key, fetched_at: now };
    this.memory.set(keyHash, entry);
    await this.options.kv.put(cacheKey(keyHash), JSON.stringify(entry), { expirationTtl: KV_TTL_SECONDS });
  }

  /** Updates `last_used_at` at most once a minute per key in this isolate, after the response. */
  touch(key: VerifiedKey, now: number, waitUntil: (promise: Promise<unknown>) => void): void {
    const last = this.touched.get(key.id);
    if (last !== undefined && now - last < TOUCH_EVERY_MS) return;
    this.touched.set(key.id, now);
    waitUntil(this.options.store.touch(key.id, now).catch(() => {}));
  }
}

function cacheKey(keyHash: string): string {
  return `key:v1:${keyHash}`;
}

function fresh(entry: CachedKey, now: number): boolean {
  const age = now - entry.fetched_at;
  return age >= 0 && age < (entry.key ? KEY_CACHE_MAX_AGE_MS : UNKNOWN_MAX_AGE_MS);
}
