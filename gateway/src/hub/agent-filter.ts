import type { StreamEvent } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";

/** Bounds of an agent filter (`WatchOptions.agentIds`, `WatchStreamRequest.agent_ids`). */
export const agentFilterLimits = { maxIds: 32, maxIdChars: 64 } as const;

/** Event kinds that belong to the whole stream, not to an agent: they pass every agent filter. */
const streamWideKinds: ReadonlySet<StreamEvent["event"]["case"]> = new Set([
  "started",
  "usage",
  "completed",
  "failed",
  "resumed",
  "heartbeat",
] as const);

/**
 * The predicate of an agent filter: true for the events to deliver.
 * Raises INVALID_ARGUMENT for more than 32 ids or an id over 64 characters.
 */
export function agentFilter(agentIds: readonly string[] | undefined): (e: StreamEvent) => boolean {
  if (!agentIds || agentIds.length === 0) return () => true;
  if (agentIds.length > agentFilterLimits.maxIds) {
    throw new ConnectError(`agent_ids: at most ${agentFilterLimits.maxIds} ids`, Code.InvalidArgument);
  }
  if (agentIds.some((a) => a.length > agentFilterLimits.maxIdChars)) {
    throw new ConnectError(`agent_ids: each at most ${agentFilterLimits.maxIdChars} characters`, Code.InvalidArgument);
  }
  const wanted = new Set(agentIds);
  return (e) => streamWideKinds.has(e.event.case) || wanted.has(e.agentId);
}
