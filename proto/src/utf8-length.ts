/** Node's `Buffer`, when there is one (its native count is 4 to 20 times faster than the loop below). */
const nodeBuffer = (globalThis as { Buffer?: { byteLength(s: string, encoding: "utf8"): number } }).Buffer;

/**
 * Length of `s` in UTF-8 bytes, as `TextEncoder` (and protobuf's string
 * encoding) would write it, without encoding it: lone surrogates count as
 * U+FFFD (3 bytes), a surrogate pair as 4 (WHATWG Encoding §4.3 "UTF-8 encode").
 * On Node, `Buffer.byteLength(s, "utf8")`, which counts the same way.
 */
export function utf8Length(s: string): number {
  if (nodeBuffer) return nodeBuffer.byteLength(s, "utf8");
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3; // a lone high surrogate: U+FFFD
    } else n += 3; // the rest of the BMP, and lone surrogates (U+FFFD)
  }
  return n;
}
