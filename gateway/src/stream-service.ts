import type { Transport } from "./metrics/gateway-metrics.js";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { createDeadlineSignal, createLinkedAbortController } from "@connectrpc/connect/protocol";
import { ev, type StreamEvent, type StreamService } from "@airwave/proto";
import type { Authenticator } from "./auth/authenticator.js";
import type { Hub, WatchOptions } from "./hub/hub.js";
import { HEARTBEAT, withHeartbeats } from "./stream/heartbeat.js";

/** Options of {@link createStreamService}; see GatewayConfig for units. */
export interface StreamServiceOptions {
  heartbeatIdleMs: number;
  /** Cap on a client's deadline for a watch, in ms; 0 = none. */
  maxDeadlineMs: number;
  /** Decides the caller's owner (the same one the HTTP routes use). */
  auth: Authenticator;
}

/**
 * StreamService over Connect, gRPC and gRPC-Web (connect-node does the
 * framing). A thin shell over the hub: one watch loop and one heartbeat
 * stage shared with the HTTP routes. Connect has no comments, so a heartbeat
 * is a `heartbeat` event with seq 0.
 *
 * `WatchStream.agent_ids` filters the watch by agent ({@link Hub.watch});
 * `SendInput` answers a pending input ({@link Hub.sendInput}; its
 * FAILED_PRECONDITION carries `airwave-reason` STREAM_ENDED or
 * INPUT_NOT_PENDING in the error metadata).
 *
 * Every call first decides its owner from `ctx.requestHeader`
 * (`Authorization: Bearer`, the browser cookie; UNAUTHENTICATED for a wrong
 * key); another owner's stream is NOT_FOUND.
 *
 * `ctx.signal` (client cancel, the client's deadline, shutdown) ends the
 * watch only; the generation goes on as its on_detach policy says. A client
 * deadline (`Connect-Timeout-Ms`, `grpc-timeout`, parsed by connect-node)
 * longer than `maxDeadlineMs` is cut to it: the watch then ends with
 * DEADLINE_EXCEEDED, and the client resumes from its cursor.
 */
export function createStreamService(hub: Hub, o: StreamServiceOptions): ServiceImpl<typeof StreamService> {
  const ownerOf = (ctx: HandlerContext) =>
    o.auth.identify({ authorization: ctx.requestHeader.get("authorization"), cookie: ctx.requestHeader.get("cookie") }).owner;

  async function* watch(
    owner: string,
    id: string,
    cursor: string,
    ctx: HandlerContext,
    w: WatchOptions = {},
  ): AsyncGenerator<{ event: StreamEvent }> {
    const cap = cappedDeadline(ctx, o.maxDeadlineMs);
    const transport = transportOf(ctx);
    try {
      for await (const x of withHeartbeats(
        hub.watch(owner, id, cursor, cap.signal, { ...w, transport, trace: ctx.requestHeader }),
        o.heartbeatIdleMs,
        cap.signal,
      )) {
        if (x === HEARTBEAT) hub.metrics?.heartbeat(transport);
        yield { event: x === HEARTBEAT ? ev.heartbeat() : x };
      }
    } catch (e) {
      throw cap.capped()
        ? new ConnectError(`deadline capped at ${o.maxDeadlineMs} ms (AIRWAVE_MAX_DEADLINE_MS)`, Code.DeadlineExceeded)
        : e;
    } finally {
      cap.dispose();
    }
  }
  return {
    async *createStream(req, ctx) {
      const owner = ownerOf(ctx);
      const id = await hub.create(owner, req, { transport: transportOf(ctx), trace: ctx.requestHeader });
      yield* watch(owner, id, "", ctx, { coalesceMs: req.coalesceMs });
    },
    async *watchStream(req, ctx) {
      yield* watch(ownerOf(ctx), req.streamId, req.cursor, ctx, { agentIds: req.agentIds, coalesceMs: req.coalesceMs });
    },
    async cancelStream(req, ctx) {
      return { stream: await hub.cancel(ownerOf(ctx), req.streamId, "client") };
    },
    async getStream(req, ctx) {
      return { stream: await hub.get(ownerOf(ctx), req.streamId) };
    },
    async sendInput(req, ctx) {
      return { inputId: await hub.sendInput(ownerOf(ctx), req) };
    },
  };
}

/** The signal of one watch: `ctx.signal`, or it linked with the capped deadline. */
interface WatchSignal {
  readonly signal: AbortSignal;
  /** True when the cap, not the client or the client's own deadline, ended the watch. */
  capped(): boolean;
  /** Stops the cap's timer and unlinks from `ctx.signal`. */
  dispose(): void;
}

/**
 * `ctx.signal`, plus an abort with DEADLINE_EXCEEDED after `maxMs` when the
 * client asked for a longer deadline than that (connect-node enforces the
 * client's own deadline on `ctx.signal`): connect's `createDeadlineSignal`
 * linked with `ctx.signal` by `createLinkedAbortController`.
 */
function cappedDeadline(ctx: HandlerContext, maxMs: number): WatchSignal {
  const asked = ctx.timeoutMs();
  if (maxMs <= 0 || asked === undefined || asked <= maxMs) return { signal: ctx.signal, capped: () => false, dispose() {} };
  const deadline = createDeadlineSignal(maxMs);
  const linked = createLinkedAbortController(ctx.signal, deadline.signal);
  return {
    signal: linked.signal,
    capped: () => deadline.signal.aborted && linked.signal.reason === deadline.signal.reason,
    dispose() {
      deadline.cleanup();
      linked.abort(); // removes the link's listener on ctx.signal
    },
  };
}

/** The `transport` label of a StreamService call: Connect, gRPC or gRPC-Web. */
function transportOf(ctx: HandlerContext): Transport {
  return ctx.protocolName === "grpc" ? "grpc" : ctx.protocolName === "grpc-web" ? "grpc_web" : "connect";
}
