/** What reading a body within a byte limit gives: all of it, or word that it went past the limit. */
export type CappedRead = { ok: true; bytes: Uint8Array } | { ok: false; reason: "too_large" };

/**
 * Reads a stream to the end, refusing it — and cancelling the rest, so the runtime may drop it — once more than
 * `maxBytes` have arrived. A lying or missing Content-Length cannot make it buffer more than the limit.
 * Errors of the stream itself are thrown.
 *
 * @example const read = await readCapped(request.body, 1 << 20); if (!read.ok) return tooLarge();
 */
export async function readCapped(
  stream: ReadableStream<Uint8Array> | null | undefined,
  maxBytes: number,
): Promise<CappedRead> {
  if (!stream) return { ok: true, bytes: new Uint8Array(0) };
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        await reader.cancel("body too large").catch(() => {});
        return { ok: false, reason: "too_large" };
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  return { ok: true, bytes: concatBytes(chunks, total) };
}

/** One array of all chunks (the single chunk itself when there is only one). */
export function concatBytes(
  chunks: readonly Uint8Array[],
  total = chunks.reduce((n, c) => n + c.length, 0),
): Uint8Array {
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}
