import { failed, type Outcome, succeeded } from "../upstream.ts";
import { type CachedText, fromHalves } from "./kv-codec.ts";

/**
 * One text of a computed batch: the GPU tier's float16 answer as it came (a label's prompt, widened by whoever reads
 * it, when it does — into a small buffer it reuses, so 700 prompts never fill one large array), or the value served
 * (a text: widened once, and kept by the caches).
 */
export type ComputedText = { halves: Uint16Array; truncated: boolean } | CachedText;

/** One batch of texts being computed, shared by every request that needs one of them. */
export interface Computation {
  readonly keys: readonly string[];
  /** In the batch's order. */
  readonly texts: Promise<Outcome<ComputedText[]>>;
  /** After this the computation is presumed lost (its chain cancelled by the runtime) and no longer joined. */
  readonly expiresAt: number;
}

/** Where a text's value will come from: a computation in flight and the text's place in its batch. */
export interface Pending {
  readonly computation: Computation;
  readonly index: number;
}

/**
 * The isolate's computations in flight, by text key: a request whose text is already being computed joins that
 * computation instead of starting another. One entry per text, but one promise per batch: a request waiting on
 * 700 prompts of one batch awaits one promise, not 700.
 *
 * @example
 * inFlight.add(computation); // its keys now resolve to it
 * const values = await inFlight.valuesOf([found, inFlight.find(key) as Pending]); // [found, its value]
 */
export class ComputationsInFlight {
  private readonly byKey = new Map<string, Pending>();

  /** The computation a key waits on, unless it has outlived its deadline (then it is forgotten). */
  find(key: string): Pending | undefined {
    const pending = this.byKey.get(key);
    if (pending && pending.computation.expiresAt <= Date.now()) {
      this.byKey.delete(key);
      return undefined;
    }
    return pending;
  }

  /** Makes the computation's keys resolve to it (replacing any entry a lost computation left). */
  add(computation: Computation): void {
    for (const [index, key] of computation.keys.entries()) this.byKey.set(key, { computation, index });
  }

  /** Forgets the computation's own entries: one that expired may have been replaced by a newer computation. */
  forget(computation: Computation): void {
    for (const key of computation.keys)
      if (this.byKey.get(key)?.computation === computation) this.byKey.delete(key);
  }

  /** The values at `places`, each an array of its own (a cache may keep it), or the first failure among them. */
  async valuesOf(places: readonly (CachedText | Pending)[]): Promise<Outcome<CachedText[]>> {
    const texts = await this.textsOf(places);
    if (!texts.ok) return texts;
    return succeeded(
      texts.value.map((text) =>
        "halves" in text ? { embedding: fromHalves(text.halves), truncated: text.truncated } : text,
      ),
    );
  }

  /** The texts at `places` as they were computed or found, each computation awaited once; or the first failure. */
  async textsOf(places: readonly (CachedText | Pending)[]): Promise<Outcome<ComputedText[]>> {
    const settled = new Map<Computation, Outcome<ComputedText[]>>();
    const waits: Promise<void>[] = [];
    for (const place of places)
      if ("computation" in place && !settled.has(place.computation)) {
        const { computation } = place;
        settled.set(computation, succeeded([]));
        waits.push(this.settled(computation).then((outcome) => void settled.set(computation, outcome)));
      }
    await Promise.all(waits);
    const texts: ComputedText[] = [];
    for (const place of places) {
      if (!("computation" in place)) {
        texts.push(place);
        continue;
      }
      const computed = settled.get(place.computation) as Outcome<ComputedText[]>;
      if (!computed.ok) return computed;
      texts.push(computed.value[place.index] as ComputedText);
    }
    return succeeded(texts);
  }

  /**
   * A computation's outcome, as seen from this request. It may have been started by another request, and workerd
   * rejects such a promise for everyone else if that request was cut off before it settled: that is a lost
   * computation, retryable — and forgotten, so the next request starts afresh.
   */
  private settled(computation: Computation): Promise<Outcome<ComputedText[]>> {
    return computation.texts.catch(() => {
      this.forget(computation);
      return failed("gpu_unavailable", "a text computation this request shared was cut off; retry");
    });
  }
}
