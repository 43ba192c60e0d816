export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit refuses calls before letting one probe through. */
  cooldownMs: number;
}

type State =
  | { kind: "closed"; failures: number }
  | { kind: "open"; until: number }
  /** `probe`: the trial in flight (its id), until when it holds the trial even if its outcome never arrives. */
  | { kind: "half-open"; probe: { id: number; until: number } | undefined };

/** What a call was granted: an ordinary call on a closed circuit, or the half-open probe (which one, by id). */
export type Admission = { kind: "call" } | { kind: "probe"; id: number };

/**
 * A per-backend circuit breaker: after `failureThreshold` consecutive failures the backend is skipped for
 * `cooldownMs`; then one call probes it (half-open), and its outcome closes or re-opens the circuit. A backend can
 * also ask for a pause itself (a 503 with Retry-After), which opens the circuit for that long.
 *
 * The probe holds the trial on a lease: in Workers a request's pending promises are dropped when it ends, so an
 * outcome may never be reported. When the lease runs out the next call probes instead, so a lost outcome can delay
 * recovery by one lease at most, never wedge the circuit.
 *
 * @example
 * const breaker = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 5_000 });
 * const admission = breaker.tryAcquire(Date.now(), 30_000);
 * if (admission) { ok ? breaker.onSuccess() : breaker.onFailure(Date.now()); }
 */
export class CircuitBreaker {
  private state: State = { kind: "closed", failures: 0 };
  private readonly options: CircuitBreakerOptions;
  private probeDone: { promise: Promise<void>; resolve: () => void } | undefined;
  private nextProbeId = 1;

  constructor(options: CircuitBreakerOptions) {
    this.options = options;
  }

  /** Claims a call at `now`; in half-open state only one probe at a time, holding the trial for `leaseMs`. */
  tryAcquire(now: number, leaseMs: number): Admission | false {
    if (this.state.kind === "open") {
      if (now < this.state.until) return false;
      this.state = { kind: "half-open", probe: undefined };
    }
    if (this.state.kind === "closed") return { kind: "call" };
    if (this.state.probe !== undefined && now < this.state.probe.until) return false;
    const id = this.nextProbeId++;
    this.state = { kind: "half-open", probe: { id, until: now + leaseMs } };
    this.settleProbe();
    let resolve = () => {};
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    this.probeDone = { promise, resolve };
    return { kind: "probe", id };
  }

  /** Whether a call could go through now, without claiming the half-open probe. */
  isAvailable(now: number): boolean {
    if (this.state.kind === "open") return now >= this.state.until;
    if (this.state.kind === "closed") return true;
    return this.state.probe === undefined || now >= this.state.probe.until;
  }

  /** While a probe is deciding: resolves once it has (or was given up); undefined when no probe is in flight. */
  probeSettled(now: number): { settled: Promise<void>; leaseEndsIn: number } | undefined {
    const probe = this.state.kind === "half-open" ? this.state.probe : undefined;
    if (!probe || !this.probeDone || now >= probe.until) return undefined;
    return { settled: this.probeDone.promise, leaseEndsIn: probe.until - now };
  }

  onSuccess(): void {
    this.state = { kind: "closed", failures: 0 };
    this.settleProbe();
  }

  onFailure(now: number): void {
    if (this.state.kind === "closed" && this.state.failures + 1 < this.options.failureThreshold) {
      this.state = { kind: "closed", failures: this.state.failures + 1 };
      return;
    }
    this.state = { kind: "open", until: now + this.options.cooldownMs };
    this.settleProbe();
  }

  /**
   * A call ended without saying anything about the backend (its own request cancelled it, or its deadline was
   * shorter than a fair timeout): a probe frees the trial for the next call; an ordinary call changes nothing.
   */
  onAbandoned(admission: Admission): void {
    // Only the probe that holds the trial frees it: one whose lease ran out must not free its successor's.
    if (
      admission.kind !== "probe" ||
      this.state.kind !== "half-open" ||
      this.state.probe?.id !== admission.id
    )
      return;
    this.state = { kind: "half-open", probe: undefined };
    this.settleProbe();
  }

  /** The backend said it cannot take work for a while (503 + Retry-After): skip it that long. */
  pauseFor(now: number, ms: number): void {
    this.state = { kind: "open", until: now + Math.max(ms, 0) };
    this.settleProbe();
  }

  /** When this backend may be tried again (now, if it may be tried now or a probe is deciding). */
  availableAt(now: number): number {
    return this.state.kind === "open" ? Math.max(now, this.state.until) : now;
  }

  get status(): "closed" | "open" | "half-open" {
    return this.state.kind;
  }

  private settleProbe(): void {
    this.probeDone?.resolve();
    this.probeDone = undefined;
  }
}
