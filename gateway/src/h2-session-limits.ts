import http2 from "node:http2";

/** The timeouts of one HTTP/2 session, in ms; 0 turns one off. */
export interface H2SessionLimits {
  /** From the session's start to its first stream (the first request's headers): AIRWAVE_HEADERS_TIMEOUT_MS. */
  readonly firstStreamMs: number;
  /** With no stream open, after the last one closed: AIRWAVE_H2_IDLE_TIMEOUT_MS. */
  readonly idleMs: number;
  /** From a stream's headers to the end of its request body: AIRWAVE_REQUEST_TIMEOUT_MS. */
  readonly requestMs: number;
}

/** After GOAWAY, how long the session may take to flush and close before it is destroyed, in ms. */
const goawayGraceMs = 1_000;

/**
 * Closes the slow and idle parts of a server HTTP/2 session, which Node's
 * http2 server does not time out by itself:
 * - a session with no open stream, `firstStreamMs` after it started (a
 *   client that sends the preface and SETTINGS, or not even SETTINGS, and
 *   nothing else) or `idleMs` after its last stream closed, is closed with
 *   GOAWAY (NO_ERROR) and its socket once that is flushed (destroyed at the
 *   latest one second later);
 * - a stream whose request body has not ended `requestMs` after its
 *   headers is reset with RST_STREAM CANCEL (its response may have started,
 *   so there is no error body).
 *
 * Streams whose request has ended (every Airwave request: unary or server
 * streaming) are never timed out here, however long their response runs.
 * Headers still arriving (HEADERS without END_HEADERS, CONTINUATION) open
 * no stream, so they count as no stream open.
 */
export function limitH2Session(session: http2.ServerHttp2Session, limits: H2SessionLimits): void {
  let open = 0;
  let idle: NodeJS.Timeout | undefined;
  const arm = (ms: number) => {
    if (ms > 0) idle = setTimeout(goaway, ms).unref();
  };
  const goaway = () => {
    if (session.closed || session.destroyed) return;
    session.close();
    setTimeout(() => session.destroy(), goawayGraceMs).unref();
  };
  arm(limits.firstStreamMs);
  session.on("stream", (stream: http2.ServerHttp2Stream) => {
    open++;
    clearTimeout(idle);
    let slow: NodeJS.Timeout | undefined;
    if (limits.requestMs > 0 && !stream.endAfterHeaders) {
      slow = setTimeout(() => {
        if (!stream.destroyed && !stream.state.remoteClose) stream.close(http2.constants.NGHTTP2_CANCEL);
      }, limits.requestMs).unref();
    }
    stream.once("close", () => {
      clearTimeout(slow);
      if (--open === 0) arm(limits.idleMs);
    });
  });
  session.once("close", () => clearTimeout(idle));
}
