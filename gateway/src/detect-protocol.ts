/** The HTTP/2 connection preface a client with prior knowledge sends first (RFC 9113 §3.4), 24 bytes. */
export const h2Preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/**
 * Tells HTTP/2 with prior knowledge (h2c) from HTTP/1.1 by a connection's
 * first bytes: `"h2"` once all 24 bytes of the preface have arrived, `"h1"`
 * at the first byte that differs from it, `undefined` while every byte so
 * far matches and fewer than 24 have arrived (read more; the bytes may
 * arrive one TCP segment at a time, and `P`, `PR`, … begin both `POST`,
 * `PRI` and the preface).
 */
export function detectProtocol(head: Uint8Array): "h1" | "h2" | undefined {
  const n = Math.min(head.length, h2Preface.length);
  for (let i = 0; i < n; i++) if (head[i] !== h2Preface[i]) return "h1";
  return n === h2Preface.length ? "h2" : undefined;
}
