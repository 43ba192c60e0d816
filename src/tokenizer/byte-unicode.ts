/**
 * GPT-2's byte-to-unicode table, which CLIP's BPE inherited: every byte gets a printable character so that merges
 * can be written as text. Printable Latin-1 bytes map to themselves; the other 68 are shifted up to U+0100 and beyond,
 * in byte order.
 *
 * @example BYTE_TO_UNICODE[0x41] === "A"; BYTE_TO_UNICODE[0x20] === "Ġ"
 */
export const BYTE_TO_UNICODE: readonly string[] = buildByteToUnicode();

/** The inverse of {@link BYTE_TO_UNICODE}: code point of the printable character → byte. */
export const UNICODE_TO_BYTE: ReadonlyMap<string, number> = new Map(
  BYTE_TO_UNICODE.map((ch, byte) => [ch, byte]),
);

/**
 * The bytes in the order the reference lists them (printable ranges first, then the shifted ones). CLIP's vocabulary
 * starts with the 256 byte symbols in exactly this order, so `BYTE_ORDER[i]` is the byte whose symbol has id `i`.
 */
export const BYTE_ORDER: readonly number[] = buildByteOrder();

function isPrintableLatin1(byte: number): boolean {
  return (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
}

function buildByteOrder(): number[] {
  const printable: number[] = [];
  const shifted: number[] = [];
  for (let byte = 0; byte < 256; byte++) (isPrintableLatin1(byte) ? printable : shifted).push(byte);
  return [...printable, ...shifted];
}

function buildByteToUnicode(): string[] {
  const table = new Array<string>(256);
  let next = 256;
  for (let byte = 0; byte < 256; byte++) {
    table[byte] = String.fromCodePoint(isPrintableLatin1(byte) ? byte : next++);
  }
  return table;
}
