/**
 * A new W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/):
 * version `00`, a random 16-byte trace id and 8-byte parent id (hex, from
 * `crypto.getRandomValues`), flags `01` (sampled). For
 * {@link AirwaveClientOptions.traceparent} when the page has no tracer of
 * its own: every request of one answer then shares one trace id, from the
 * browser to the model.
 *
 * @example
 * newTraceparent() // "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
 */
export function newTraceparent(): string {
  const hex = (n: number) => Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b.toString(16).padStart(2, "0")).join("");
  return `00-${hex(16)}-${hex(8)}-01`;
}
