/**
 * Length of `s` in UTF-8 bytes, as `TextEncoder` (and protobuf's string
 * encoding) would write it, without encoding it: lone surrogates count as
 * U+FFFD (3 bytes), a surrogate pair as 4 (WHATWG Encoding §4.3 "UTF-8 encode").
 */
export function utf8Length(s: string): number {
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
