/**
 * A bounded least-recently-used map: the in-isolate tier in front of KV. A Map keeps insertion order, so a hit is
 * moved to the end and the first key is the one to evict.
 *
 * @example const lru = new Lru<string, number>(2); lru.set("a", 1); lru.set("b", 2); lru.get("a"); lru.set("c", 3); lru.has("b") === false
 */
export class Lru<K, V> {
  private readonly entries = new Map<K, V>();
  readonly capacity: number;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError("Lru capacity must be a positive integer");
    this.capacity = capacity;
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as K);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
