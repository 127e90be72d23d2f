/**
 * Thrown when a body cannot be framed: a line or event longer than the
 * framer's bound (e.g. an NDJSON line over its buffer, {@link
 * NdjsonLineStream}), or bytes that are not the framing at all. In the
 * inference service a provider's `decode` stream throws it and the runtime
 * (`createHttpProvider`) turns it into a terminal `failed` INTERNAL, reason
 * UPSTREAM_MALFORMED, like eventsource-parser's `ParseError`; the browser
 * client's NDJSON transport raises it as Code.ResourceExhausted.
 *
 * Recognised by `instanceof` or by `name === "FramingError"`, so a spec may
 * also define its own error class with that name.
 */
export class FramingError extends Error {
  override readonly name = "FramingError";
  /**
   * @param message - what was wrong, for logs (never shown to clients).
   * @param o.cause - the underlying error, if any.
   */
  constructor(message: string, o: { cause?: unknown } = {}) {
    super(message, o.cause === undefined ? undefined : { cause: o.cause });
  }
}
