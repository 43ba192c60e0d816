const encoder = new TextEncoder();

/**
 * Compares a presented secret with an expected one without leaking, through timing, how much of it matched or how
 * long the expected one is: both are hashed to 32 bytes first, then compared with a loop that never exits early.
 *
 * @example await secretsEqual(request.headers.get("authorization")?.slice(7) ?? "", env.ADMIN_TOKEN)
 */
export async function secretsEqual(presented: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(presented), digest(expected)]);
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= (a[i] as number) ^ (b[i] as number);
  return difference === 0 && expected.length > 0;
}

/** True when `presented` equals any of `expected`; every candidate is compared, whatever matches first. */
export async function secretMatchesAny(presented: string, expected: readonly string[]): Promise<boolean> {
  const results = await Promise.all(expected.map((candidate) => secretsEqual(presented, candidate)));
  return results.includes(true);
}

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}
