interface Entry<K, V> {
  key: K;
  value: V;
  /** Towards the least recently used end. */
  older: Entry<K, V> | undefined;
  /** Towards the most recently used end. */
  newer: Entry<K, V> | undefined;
}

/**
 * A bounded least-recently-used map: the in-isolate tier in front of KV. The entries form a list from least to most
 * recently used beside a Map from key to entry, so a hit moves one entry by pointers and an eviction drops the list's
 * head. (Reordering the Map itself — delete, set, evict its first key — looked simpler but cost 5 µs a set once full:
 * V8 leaves a hole per deleted entry and `keys().next()` walks past them; hits paid a delete and a set.)
 *
 * @example const lru = new Lru<string, number>(2); lru.set("a", 1); lru.set("b", 2); lru.get("a"); lru.set("c", 3); lru.has("b") === false
 */
export class Lru<K, V> {
  private readonly entries = new Map<K, Entry<K, V>>();
  private oldest: Entry<K, V> | undefined;
  private newest: Entry<K, V> | undefined;
  readonly capacity: number;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError("Lru capacity must be a positive integer");
    this.capacity = capacity;
  }

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.touch(entry);
    return entry.value;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  set(key: K, value: V): void {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      entry.value = value;
      this.touch(entry);
      return;
    }
    const added: Entry<K, V> = { key, value, older: this.newest, newer: undefined };
    if (this.newest) this.newest.newer = added;
    else this.oldest = added;
    this.newest = added;
    this.entries.set(key, added);
    if (this.entries.size > this.capacity && this.oldest) this.delete(this.oldest.key);
  }

  delete(key: K): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.unlink(entry);
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Makes `entry` the most recently used. */
  private touch(entry: Entry<K, V>): void {
    if (entry === this.newest) return;
    this.unlink(entry);
    entry.older = this.newest;
    if (this.newest) this.newest.newer = entry;
    else this.oldest = entry;
    this.newest = entry;
  }

  private unlink(entry: Entry<K, V>): void {
    if (entry.older) entry.older.newer = entry.newer;
    else this.oldest = entry.newer;
    if (entry.newer) entry.newer.older = entry.older;
    else this.newest = entry.older;
    entry.older = undefined;
    entry.newer = undefined;
  }
}
