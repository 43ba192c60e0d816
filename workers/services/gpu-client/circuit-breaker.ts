export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit refuses calls before letting one probe through. */
  cooldownMs: number;
}

type State =
  | { kind: "closed"; failures: number }
  | { kind: "open"; until: number }
  | { kind: "half-open"; probing: boolean };

/**
 * A per-backend circuit breaker: after `failureThreshold` consecutive failures the backend is skipped for
 * `cooldownMs`; then one request probes it (half-open), and its outcome closes or re-opens the circuit. A backend can
 * also ask for a pause itself (a 503 with Retry-After), which opens the circuit for that long.
 *
 * @example
 * const breaker = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 5_000 });
 * if (breaker.tryAcquire(Date.now())) { ok ? breaker.onSuccess() : breaker.onFailure(Date.now()); }
 */
export class CircuitBreaker {
  private state: State = { kind: "closed", failures: 0 };
  private readonly options: CircuitBreakerOptions;

  constructor(options: CircuitBreakerOptions) {
    this.options = options;
  }

  /** Whether a call may go to this backend now; in half-open state only one probe at a time may. */
  tryAcquire(now: number): boolean {
    if (this.state.kind === "open") {
      if (now < this.state.until) return false;
      this.state = { kind: "half-open", probing: false };
    }
    if (this.state.kind === "half-open") {
      if (this.state.probing) return false;
      this.state.probing = true;
    }
    return true;
  }

  /** Whether a call could go through now, without claiming the half-open probe. */
  isAvailable(now: number): boolean {
    if (this.state.kind === "open") return now >= this.state.until;
    return this.state.kind === "closed" || !this.state.probing;
  }

  onSuccess(): void {
    this.state = { kind: "closed", failures: 0 };
  }

  onFailure(now: number): void {
    if (this.state.kind === "closed" && this.state.failures + 1 < this.options.failureThreshold) {
      this.state = { kind: "closed", failures: this.state.failures + 1 };
      return;
    }
    this.state = { kind: "open", until: now + this.options.cooldownMs };
  }

  /** The backend said it cannot take work for a while (503 + Retry-After): skip it that long. */
  pauseFor(now: number, ms: number): void {
    this.state = { kind: "open", until: now + Math.max(ms, 0) };
  }

  /** When this backend may be tried again (now, if it may be tried now). */
  availableAt(now: number): number {
    return this.state.kind === "open" ? Math.max(now, this.state.until) : now;
  }

  get status(): "closed" | "open" | "half-open" {
    return this.state.kind;
  }
}
