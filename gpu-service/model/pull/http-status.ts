/**
 * HTTP statuses that say "not now" rather than "no": 408 (the server gave up waiting), 429 (rate-limited, as a
 * fleet restarting together is) and 5xx. One rule for the Hub's API (hub.ts) and for the CDN's downloads
 * (download.ts): code "hub-unavailable", retried, and a verified folder may serve instead.
 *
 * @example isUnavailableStatus(429) // true; isUnavailableStatus(404) // false
 */
export function isUnavailableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/**
 * A Retry-After header in milliseconds: delay-seconds ("120") or an HTTP date, which counts from `now`; undefined
 * when absent or unreadable. A date in the past is 0.
 *
 * @example parseRetryAfter("3") // 3000; parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now) // ms until then
 */
export function parseRetryAfter(header: string | null | undefined, now = Date.now()): number | undefined {
  const text = header?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // HTTP dates start with the day's name; Date.parse alone would take "-1" or "1.5" for dates too.
  const at = /^[A-Za-z]/.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
