/**
 * Calls in flight to one backend, each held on a lease. A call normally releases itself when it settles; in Workers
 * a call whose request has ended may simply never settle (the runtime drops its promises), and then its lease
 * ending is what stops it counting — so the count that routing uses can never leak upwards for good.
 *
 * @example const release = inFlight.add(Date.now(), 31_000); try { … } finally { release(); }
 */
export class InFlight {
  private readonly leases = new Map<number, number>();
  private nextId = 0;

  /** Counts one call until `release()` or until `leaseMs` have passed, whichever comes first. */
  add(now: number, leaseMs: number): () => void {
    const id = this.nextId++;
    this.leases.set(id, now + leaseMs);
    return () => {
      this.leases.delete(id);
    };
  }

  count(now: number): number {
    for (const [id, expiresAt] of this.leases) if (expiresAt <= now) this.leases.delete(id);
    return this.leases.size;
  }
}
