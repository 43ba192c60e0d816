/**
 * Which paths skip signing. Both tiers import this list so the edge never signs (or forgets to sign)
 * differently from what the GPU tier checks. Probes stay unsigned because load balancers cannot sign.
 */
export const UNSIGNED_PATHS: readonly string[] = Object.freeze(["/healthz", "/readyz"]);

/**
 * Whether a request to `path` (with or without a query string) must carry a valid signature.
 *
 * @example
 * requiresSignature("/readyz?verbose=1") // false
 * requiresSignature("/v1/embed/images")  // true
 * requiresSignature("/healthz/../v1/embed/images") // true: only exact matches are exempt
 */
export function requiresSignature(path: string): boolean {
  const queryAt = path.indexOf("?");
  const pathname = queryAt === -1 ? path : path.slice(0, queryAt);
  return !UNSIGNED_PATHS.includes(pathname);
}
