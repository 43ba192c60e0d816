/** A token bucket's stored state: tokens left (fractional) at a time in ms. A new bucket is full. */
export interface BucketState {
  tokens: number;
  updatedAt: number;
}

export interface BucketLimits {
  /** Tokens added per second. */
  ratePerSecond: number;
  /** Capacity: the most requests that can arrive at once after a quiet spell. */
  burst: number;
}

export interface TakeResult {
  allowed: boolean;
  /** The state to store (unchanged tokens when refused, apart from the refill). */
  state: BucketState;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Seconds until the next token (when refused: when to retry), at least 1 when refused. */
  retryAfterSeconds: number;
  /** Seconds until the bucket is full again. */
  fullInSeconds: number;
}

/**
 * Refills the bucket for the time passed since it was stored, then takes one token if there is one. A clock that
 * went backwards refills nothing. Pure: the caller stores `state` in the same transaction that read the old one.
 *
 * @example take(undefined, { ratePerSecond: 1, burst: 2 }, 0).remaining === 1
 */
export function take(state: BucketState | undefined, limits: BucketLimits, now: number): TakeResult {
  const { ratePerSecond, burst } = limits;
  const elapsedSeconds = state ? Math.max(0, now - state.updatedAt) / 1000 : 0;
  const available = state ? Math.min(burst, state.tokens + elapsedSeconds * ratePerSecond) : burst;
  const allowed = available >= 1;
  const tokens = allowed ? available - 1 : available;
  return {
    allowed,
    state: { tokens, updatedAt: now },
    remaining: Math.floor(tokens),
    retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - tokens) / ratePerSecond)),
    fullInSeconds: Math.ceil((burst - tokens) / ratePerSecond),
  };
}

/**
 * The bucket as it stands at `now`, without taking a token (for the RateLimit header after a request).
 *
 * @example peek(undefined, { ratePerSecond: 1, burst: 5 }, 0).remaining === 5
 */
export function peek(
  state: BucketState | undefined,
  limits: BucketLimits,
  now: number,
): { remaining: number; fullInSeconds: number } {
  const { ratePerSecond, burst } = limits;
  const tokens = state
    ? Math.min(burst, state.tokens + (Math.max(0, now - state.updatedAt) / 1000) * ratePerSecond)
    : burst;
  return { remaining: Math.floor(tokens), fullInSeconds: Math.ceil((burst - tokens) / ratePerSecond) };
}
