import { type Context, context, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { UpstreamMeter } from "../metrics.js";
import { delay, ev, type GenerateRequest, isTerminal, type Sleep, type StreamEvent, type UsageInit } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { createDeadlineSignal, createLinkedAbortController } from "@connectrpc/connect/protocol";
import { Agent, fetch } from "undici";
import type { InputChannel, Provider } from "../provider.js";
import { backoffDelay } from "./backoff-delay.js";
import { bodyFailure } from "./body-failure.js";
import { isRetryableResponse } from "./code-for-status.js";
import type { HttpProviderSpec, ProviderEndpoint, UpstreamRequest } from "./http-provider-spec.js";
import { parseRetryAfter } from "./parse-retry-after.js";
import { readErrorBody } from "./read-error-body.js";
import { createSecretScrubber, safeRequestId, scrubConnectError, scrubEvent, traceHeaders } from "@airwave/proto/server";
import { fromUpstreamFetchError, fromUpstreamHttpError, upstreamError } from "./upstream-error.js";
import { defaultUpstreamLimits, type UpstreamLimits } from "./upstream-limits.js";

const tracer = trace.getTracer("@airwave/services");

/** Options of {@link createHttpProvider}. */
export interface HttpProviderOptions {
  /** The provider's configured name: the `<provider>` prefix of `GenerateRequest.model`, and `started.provider`. */
  readonly name: string;
  /** The provider kind's protocol. */
  readonly spec: HttpProviderSpec;
  /** Where the upstream is and how to authenticate (the key, read from the environment by the caller). */
  readonly endpoint: ProviderEndpoint;
  /** The models served; undefined = any name, the upstream decides (see `Provider.models`). */
  readonly models?: readonly string[] | undefined;
  /** The model for a bare provider name; none by default. */
  readonly defaultModel?: string | undefined;
  /** Overrides of {@link defaultUpstreamLimits}. */
  readonly limits?: Partial<UpstreamLimits> | undefined;
  /** The wait between retries; default `delay` (tests inject one). Must reject with the signal's reason on abort. */
  readonly sleep?: Sleep | undefined;
  /** Uniform draws from [0, 1) for the backoff jitter; default `Math.random`. */
  readonly random?: (() => number) | undefined;
  /** The current time in ms since the epoch (HTTP-date `Retry-After`, the total deadline); default `Date.now`. */
  readonly now?: (() => number) | undefined;
  /** Where the upstream requests, retries, time to first byte and errors are counted; default nowhere. */
  readonly meter?: UpstreamMeter | undefined;
}

/** A {@link Provider} backed by an HTTP upstream, with its connection pool. */
export interface HttpProvider extends Provider {
  /** The effective limits. */
  readonly limits: Readonly<UpstreamLimits>;
  /** Closes the provider's idle upstream connections (running calls are not affected by the caller's abort, only by their own signal). */
  close(): Promise<void>;
}

/**
 * Turns an {@link HttpProviderSpec} into a {@link Provider}: the shared
 * runtime every HTTP provider kind gets — the call, `started`, limits,
 * retries and the HTTP status → Code table.
 *
 * `generate(req, model, signal)`:
 * 1. builds the request with `spec.request` (its ConnectError, e.g.
 *    InvalidArgument, passes through before anything is sent);
 * 2. calls the upstream with undici's `fetch` over a per-provider `Agent`
 *    whose connect timeout, `headersTimeout` (first byte) and `bodyTimeout`
 *    (idle gap between body chunks) are the {@link UpstreamLimits}; redirects
 *    are not followed;
 * 3. before any event, on a connect error or timeout, a first-byte timeout
 *    or HTTP 408/429/5xx, retries up to `limits.retries` times, waiting the
 *    upstream's `Retry-After`/`retry-after-ms` when it gave one (when longer
 *    than `limits.maxRetryAfterMs`, or past the total deadline, it gives up
 *    at once), otherwise exponential backoff with full jitter
 *    ({@link backoffDelay}); when it gives up it throws the last ConnectError
 *    (codes and messages: `fromUpstreamHttpError`, `fromUpstreamFetchError`;
 *    the retry hint in the `retry-after-ms` metadata, the reason in
 *    `airwave-reason`). Other statuses (400, 401, 402, 403, 404, 409, 413,
 *    422…) are never retried, nor a 429 whose body says the quota is
 *    exhausted (`isQuotaExhausted`: retrying does not restore access);
 * 4. after a 2xx response yields `ev.started(model, name, <spec.requestIdHeader
 *    value or "">)`, then `spec.decode(body)`'s events up to and including
 *    the terminal one. Never a retry after that: a body that breaks becomes
 *    a terminal `failed` (`bodyFailure`: UPSTREAM_TRUNCATED,
 *    UPSTREAM_IDLE_TIMEOUT, UPSTREAM_MALFORMED, UPSTREAM_TOTAL_TIMEOUT) with
 *    the usage seen so far; a body that ends early gets the mapper's own
 *    terminal event (`adapt`: exactly one, last). A `failed` event of
 *    the spec without `retry_after_ms` gets the 2xx response's
 *    `Retry-After`/`retry-after-ms`, when it had one;
 * 5. the total limit covers all of it: before `started` it throws
 *    Code.DeadlineExceeded UPSTREAM_TOTAL_TIMEOUT, after it ends with that
 *    `failed`;
 * 6. when `signal` aborts, the upstream request is aborted at once (its
 *    socket closes) and the generator throws `signal.reason`, also while
 *    waiting to retry. Stopping the iteration early aborts it too;
 * 7. no secret leaves: every text that comes from the upstream is scrubbed
 *    (`createSecretScrubber`) of `endpoint.apiKey`, of every
 *    `endpoint.headers` value and of credential-shaped strings before it
 *    becomes an event or an error — the messages of the errors thrown, the
 *    `failed` message, `completed.raw_finish_reason` and `provider_metadata`
 *    (`scrubEvent`, `scrubConnectError`); the request id header is kept only
 *    in a plain id shape (`safeRequestId`), else `started.request_id` is
 *    empty. Model output (text, reasoning, tool-call deltas) is not scrubbed.
 */
export function createHttpProvider(o: HttpProviderOptions): HttpProvider {
  const limits: UpstreamLimits = { ...defaultUpstreamLimits, ...o.limits };
  const agent = new Agent({
    connect: { timeout: limits.connectTimeoutMs },
    headersTimeout: limits.firstByteTimeoutMs,
    bodyTimeout: limits.idleTimeoutMs,
  });
  const sleep = o.sleep ?? delay;
  const random = o.random ?? Math.random;
  const now = o.now ?? Date.now;
  const { name, spec, endpoint, meter } = o;
  // The endpoint's key and every configured header value are secrets: an
  // upstream may echo them in any text it sends back.
  const scrub = createSecretScrubber([endpoint.apiKey, ...Object.values(endpoint.headers ?? {})]);

  /** Opens the upstream response, retrying before the first event; throws a ConnectError or the abort reason. */
  async function open(
    upstream: UpstreamRequest,
    call: CallScope,
    parent: Context,
  ): Promise<{ body: ReadableStream<Uint8Array>; headers: Headers; span: Span }> {
    for (let attempt = 0; ; attempt++) {
      let error: ConnectError;
      let retryable: boolean;
      let retryAfterMs: number | undefined;
      const sentAt = performance.now();
      meter?.request(spec.kind);
      const span = startUpstreamSpan(parent, upstream, attempt);
      // The trace context goes to the provider (W3C traceparent); never over a header the endpoint or request sets.
      const headers = { ...traceHeaders(trace.setSpan(parent, span)), ...endpoint.headers, ...upstream.headers };
      try {
        const res = await fetch(upstream.url, {
          method: upstream.method ?? "POST",
          headers,
          body: upstream.method === "GET" ? undefined : upstream.body,
          signal: call.signal,
          dispatcher: agent,
          redirect: "manual",
        });
        meter?.firstByte(spec.kind, (performance.now() - sentAt) / 1000);
        span.setAttribute("http.response.status_code", res.status);
        const resHeaders = res.headers as unknown as Headers;
        const body = res.body as unknown as ReadableStream<Uint8Array> | null;
        if (res.status >= 200 && res.status <= 299 && body) return { body, headers: resHeaders, span }; // ends with the body
        if (res.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
        const text = await readErrorBody(body);
        call.throwIfEnded();
        retryAfterMs = parseRetryAfter(resHeaders, now());
        if (res.status >= 200 && res.status <= 299) {
          error = upstreamError(`the ${name} provider sent an empty response (HTTP ${res.status})`, Code.Unavailable, "UPSTREAM_EMPTY");
          retryable = true;
        } else {
          error = fromUpstreamHttpError({
            provider: name,
            status: res.status,
            body: text,
            retryAfterMs,
            errorMessage: (b) => spec.errorMessage(b),
          });
          retryable = isRetryableResponse(res.status, text);
        }
      } catch (e) {
        if (span.isRecording()) {
          span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        }
        call.throwIfEnded();
        ({ error, retryable } = fromUpstreamFetchError(e, name));
      }
      const wait = retryAfterMs ?? backoffDelay(attempt, random);
      if (
        !retryable ||
        attempt >= limits.retries ||
        (retryAfterMs !== undefined && retryAfterMs > limits.maxRetryAfterMs) ||
        (limits.totalTimeoutMs > 0 && now() - call.startedAt + wait >= limits.totalTimeoutMs)
      ) {
        meter?.error(spec.kind, error.code);
        throw error;
      }
      meter?.retry(spec.kind);
      try {
        await sleep(wait, call.signal);
      } catch (e) {
        call.throwIfEnded();
        throw e;
      }
      call.throwIfEnded();
    }
  }

  return {
    name,
    defaultModel: o.defaultModel,
    models: o.models,
    limits,
    close: () => agent.close(),
    async *generate(
      req: GenerateRequest,
      model: string,
      signal: AbortSignal,
      _inputs?: InputChannel,
      traceContext: Context = context.active(),
    ): AsyncIterable<StreamEvent> {
      signal.throwIfAborted();
      const upstream = spec.request(req, model, endpoint);
      const call = new CallScope(signal, limits.totalTimeoutMs, now(), name);
      let span: Span | undefined; // the upstream request's, until its body ends
      try {
        const res = await open(upstream, call, traceContext);
        span = res.span;
        let events: ReadableStream<StreamEvent>;
        try {
          events = spec.decode(res.body, endpoint);
        } catch (e) {
          throw e instanceof ConnectError
            ? e
            : upstreamError(`the ${name} provider's stream cannot be read`, Code.Internal, "PROVIDER_ERROR", { cause: e });
        }
        const requestId = spec.requestIdHeader ? safeRequestId(res.headers.get(spec.requestIdHeader), scrub) : "";
        // A retry hint on the 2xx response itself applies to an error inside the stream.
        const retryAfterMs = parseRetryAfter(res.headers, now());
        yield ev.started(model, name, requestId);
        const reader = events.getReader();
        let usage: UsageInit | undefined;
        try {
          for (;;) {
            let r: Awaited<ReturnType<typeof reader.read>>;
            try {
              r = await reader.read();
            } catch (err) {
              signal.throwIfAborted();
              yield scrubEvent(bodyFailure(err, { provider: name, usage, totalTimedOut: call.totalTimedOut }), scrub);
              return;
            }
            signal.throwIfAborted();
            // spec.decode ends with its terminal event (adapt holds every mapper to it).
            if (r.done) return;
            const e = r.value;
            if (e.event.case === "usage") usage = { ...e.event.value };
            if (e.event.case === "failed" && e.event.value.retryAfterMs === 0 && retryAfterMs !== undefined) {
              e.event.value.retryAfterMs = retryAfterMs;
            }
            yield scrubEvent(e, scrub);
            if (isTerminal(e)) return;
          }
        } finally {
          void reader.cancel().catch(() => {});
        }
      } catch (e) {
        throw scrubConnectError(e, scrub);
      } finally {
        call.dispose();
        span?.end();
      }
    },
  };
}

/**
 * One generation's abort scope: aborts the upstream request on the caller's
 * abort, on the total limit, or when the generation ends (connect's
 * `createLinkedAbortController` over the caller's signal and a
 * `createDeadlineSignal` of the total limit). @private
 */
class CallScope {
  readonly #deadline: { signal: AbortSignal; cleanup(): void };
  readonly #controller: AbortController;
  readonly #caller: AbortSignal;
  readonly #provider: string;
  /** When the call began, in ms since the epoch (the caller's clock). */
  readonly startedAt: number;

  constructor(caller: AbortSignal, totalTimeoutMs: number, startedAt: number, provider: string) {
    this.#caller = caller;
    this.#provider = provider;
    this.startedAt = startedAt;
    this.#deadline = createDeadlineSignal(totalTimeoutMs > 0 ? totalTimeoutMs : undefined);
    this.#controller = createLinkedAbortController(caller, this.#deadline.signal);
  }

  /** Aborts on the caller's abort, the total limit, or {@link CallScope.dispose}. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** True once the total limit fired. */
  get totalTimedOut(): boolean {
    return this.#deadline.signal.aborted;
  }

  /** Throws the caller's abort reason, or the total-limit ConnectError, when either happened. */
  throwIfEnded(): void {
    this.#caller.throwIfAborted();
    if (this.totalTimedOut) {
      throw upstreamError(
        `the ${this.#provider} provider took longer than the total time limit`,
        Code.DeadlineExceeded,
        "UPSTREAM_TOTAL_TIMEOUT",
      );
    }
  }

  /** Ends the scope: clears the timer and aborts whatever upstream request is left. */
  dispose(): void {
    this.#deadline.cleanup();
    if (!this.#controller.signal.aborted) this.#controller.abort(new ConnectError("the generation ended", Code.Canceled));
  }
}

/**
 * The CLIENT span of one upstream HTTP request (one attempt), named by its
 * method as the HTTP semantic conventions say; the URL's host, port and
 * path only (never its query: some providers take the key there).
 */
function startUpstreamSpan(parent: Context, upstream: UpstreamRequest, attempt: number): Span {
  const url = new URL(upstream.url);
  const method = upstream.method ?? "POST";
  return tracer.startSpan(
    method,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        "http.request.method": method,
        "server.address": url.hostname,
        "server.port": Number(url.port) || (url.protocol === "https:" ? 443 : 80),
        "url.scheme": url.protocol.replace(":", ""),
        "url.path": url.pathname,
        ...(attempt > 0 ? { "http.request.resend_count": attempt } : {}),
      },
    },
    parent,
  );
}
