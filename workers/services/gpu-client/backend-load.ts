import { AnswerRate } from "./answer-rate.ts";
import { InFlight } from "./in-flight.ts";

/**
 * What one backend is doing for this isolate: calls in flight (in all, for routing), and per kind of call (a route:
 * image frames, text frames, caption searches, downloads) its calls in flight and answer rate — kinds differ by
 * orders of magnitude in cost, so a new image call's wait is judged by image calls only.
 *
 * @example const done = load.begin("/v1/embed/images", now, 31_000); …; load.answered("/v1/embed/images", now); done();
 */
export class BackendLoad {
  private readonly all = new InFlight();
  private readonly kinds = new Map<string, { inFlight: InFlight; answers: AnswerRate }>();

  /** Counts a call from now until the returned release (or its lease ends). */
  begin(kind: string, now: number, leaseMs: number): () => void {
    const releaseAll = this.all.add(now, leaseMs);
    const releaseKind = this.kind(kind).inFlight.add(now, leaseMs);
    return () => {
      releaseAll();
      releaseKind();
    };
  }

  answered(kind: string, now: number): void {
    this.kind(kind).answers.answered(now);
  }

  outstanding(now: number): number {
    return this.all.count(now);
  }

  /** How long a new call of this kind would wait here (Little's law), or undefined without enough history. */
  expectedWaitMs(kind: string, now: number): number | undefined {
    const entry = this.kinds.get(kind);
    return entry?.answers.expectedWaitMs(now, entry.inFlight.count(now));
  }

  private kind(kind: string) {
    let entry = this.kinds.get(kind);
    if (!entry) {
      entry = { inFlight: new InFlight(), answers: new AnswerRate() };
      this.kinds.set(kind, entry);
    }
    return entry;
  }
}
