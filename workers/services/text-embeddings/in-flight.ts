import { failed, type Outcome, succeeded } from "../upstream.ts";
import type { CachedText } from "./kv-codec.ts";

/** A computed batch: unit-length embeddings in the batch's order, each with its dot product with itself. */
export interface ComputedTexts {
  values: CachedText[];
  /** As `dot(value, value)` gives it: normalising has just summed it, and ensembling needs it next. */
  selfDots: Float64Array;
}

/** One batch of texts being computed: its values in the batch's order, shared by every request that needs one. */
export interface Computation {
  readonly keys: readonly string[];
  readonly values: Promise<Outcome<ComputedTexts>>;
  /** After this the computation is presumed lost (its chain cancelled by the runtime) and no longer joined. */
  readonly expiresAt: number;
  /**
   * Its values are views into one buffer for the whole batch (a label's prompts, used once and dropped): read them,
   * but copy one to keep it, or a cache entry would keep the whole batch alive.
   */
  readonly transient: boolean;
}

/** Values for a request, in its order; `selfDots[i]` is NaN where not known (a value found in a cache). */
export interface Gathered {
  values: CachedText[];
  selfDots: number[];
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
 * const gathered = await inFlight.valuesOf([found, inFlight.find(key) as Pending], false);
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

  /**
   * The values at `places` in order — a value as it is, a pending one from its computation (each computation awaited
   * once) — or the first failure among them. With `keep`, values from a transient computation are copied, so the
   * caller may cache them.
   */
  async valuesOf(places: readonly (CachedText | Pending)[], keep: boolean): Promise<Outcome<Gathered>> {
    const outcomes = new Map<Computation, Outcome<ComputedTexts> | undefined>();
    const waits: Promise<void>[] = [];
    for (const place of places)
      if ("computation" in place && !outcomes.has(place.computation)) {
        const { computation } = place;
        outcomes.set(computation, undefined);
        waits.push(this.settled(computation).then((outcome) => void outcomes.set(computation, outcome)));
      }
    await Promise.all(waits);
    const gathered: Gathered = { values: [], selfDots: [] };
    for (const place of places) {
      if (!("computation" in place)) {
        gathered.values.push(place);
        gathered.selfDots.push(Number.NaN);
        continue;
      }
      const outcome = outcomes.get(place.computation) as Outcome<ComputedTexts>;
      if (!outcome.ok) return outcome;
      const value = outcome.value.values[place.index] as CachedText;
      gathered.values.push(
        keep && place.computation.transient ? { ...value, embedding: value.embedding.slice() } : value,
      );
      gathered.selfDots.push(outcome.value.selfDots[place.index] as number);
    }
    return succeeded(gathered);
  }

  /**
   * A computation's outcome, as seen from this request. It may have been started by another request, and workerd
   * rejects such a promise for everyone else if that request was cut off before it settled: that is a lost
   * computation, retryable — and forgotten, so the next request starts afresh.
   */
  private settled(computation: Computation): Promise<Outcome<ComputedTexts>> {
    return computation.values.catch(() => {
      this.forget(computation);
      return failed("gpu_unavailable", "a text computation this request shared was cut off; retry");
    });
  }
}
