/**
 * How fast one backend has been answering this isolate's calls lately, to tell how long a new call would wait:
 * by Little's law, a call that joins `outstanding` others waits about (outstanding + 1) / rate. Each isolate sees its
 * own share of the calls and of the answers, so the ratio holds however many isolates share the backend.
 *
 * @example rate.answered(now); rate.expectedWaitMs(now, outstanding) // undefined until there is enough history
 */
export class AnswerRate {
  private readonly answers: number[] = [];
  private readonly windowMs: number;
  private readonly minSamples: number;

  constructor(options: { windowMs?: number; minSamples?: number } = {}) {
    this.windowMs = options.windowMs ?? 10_000;
    this.minSamples = options.minSamples ?? 16;
  }

  answered(now: number): void {
    this.answers.push(now);
    this.prune(now);
  }

  /** The expected wait of a new call, in ms; undefined without enough recent answers to judge (then: no estimate). */
  expectedWaitMs(now: number, outstanding: number): number | undefined {
    this.prune(now);
    if (this.answers.length < this.minSamples) return undefined;
    const spanMs = Math.max(1, now - (this.answers[0] as number));
    const perMs = this.answers.length / spanMs;
    return (outstanding + 1) / perMs;
  }

  private prune(now: number): void {
    const horizon = now - this.windowMs;
    let drop = 0;
    while (drop < this.answers.length && (this.answers[drop] as number) < horizon) drop++;
    if (drop > 0) this.answers.splice(0, drop);
  }
}
