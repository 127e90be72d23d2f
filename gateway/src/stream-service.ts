import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { ev, type StreamEvent, type StreamService } from "@airwave/proto";
import { HEARTBEAT, withHeartbeats } from "./heartbeat.js";
import type { Hub } from "./hub.js";
import { anonymousOwner } from "./owner.js";

/**
 * StreamService over Connect, gRPC and gRPC-Web (connect-node does the
 * framing). A thin shell over the hub: one watch loop and one heartbeat
 * stage shared with the HTTP routes. Connect has no comments, so a heartbeat
 * is a `heartbeat` event with seq 0 (STYLE P9).
 *
 * `ctx.signal` (client cancel, deadline, shutdown) ends the watch only; the
 * generation goes on as its on_detach policy says.
 */
export function createStreamService(hub: Hub, o: { heartbeatIdleMs: number }): ServiceImpl<typeof StreamService> {
  async function* watch(id: string, cursor: string, ctx: HandlerContext): AsyncGenerator<{ event: StreamEvent }> {
    for await (const x of withHeartbeats(hub.watch(anonymousOwner, id, cursor, ctx.signal), o.heartbeatIdleMs, ctx.signal)) {
      yield { event: x === HEARTBEAT ? ev.heartbeat() : x };
    }
  }
  return {
    async *createStream(req, ctx) {
      const id = await hub.create(anonymousOwner, req);
      yield* watch(id, "", ctx);
    },
    async *watchStream(req, ctx) {
      yield* watch(req.streamId, req.cursor, ctx);
    },
    async cancelStream(req) {
      return { stream: await hub.cancel(anonymousOwner, req.streamId, "client") };
    },
    getStream(req) {
      return { stream: hub.get(anonymousOwner, req.streamId) };
    },
    sendInput() {
      throw new ConnectError("SendInput is not implemented yet", Code.Unimplemented);
    },
  };
}
