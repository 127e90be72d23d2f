import { isTerminal, type StreamEvent, StreamEventSchema } from "@airwave/proto";
import { toBinary } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";

/**
 * Test support for reading the events a provider yields (not part of the
 * build's public surface). @private
 */

/** An event kind: the `case` of `StreamEvent.event`. */
type Kind = NonNullable<StreamEvent["event"]["case"]>;

/** The value of an event of kind `K`. */
type ValueOf<K extends Kind> = Extract<StreamEvent["event"], { case: K }>["value"];

/** The kind of each event, in order (`undefined` for an event with none). */
export const kinds = (evs: readonly StreamEvent[]) => evs.map((e) => e.event.case);

/**
 * The terminal event of `evs` (`completed` or `failed`), whole (with its
 * `providerMetadata`), after checking there is exactly one and it is the
 * last event; throws otherwise.
 */
export function terminalEventOf(evs: readonly StreamEvent[]): StreamEvent {
  const terminals = evs.filter(isTerminal);
  if (terminals.length !== 1) throw new Error(`expected exactly one terminal event, got ${terminals.length}`);
  const last = evs.at(-1);
  if (!last || !isTerminal(last)) throw new Error(`the terminal event is not last (last: ${String(last?.event.case)})`);
  return last;
}

/** The `event` oneof (`{case: "completed" | "failed", value}`) of {@link terminalEventOf}, with the same checks. */
export const terminalOf = (evs: readonly StreamEvent[]): StreamEvent["event"] => terminalEventOf(evs).event;

/** The values of the events of one kind, in order. */
export function ofKind<K extends Kind>(evs: readonly StreamEvent[], kind: K): ValueOf<K>[] {
  const out: ValueOf<K>[] = [];
  for (const e of evs) if (e.event.case === kind) out.push(e.event.value as ValueOf<K>);
  return out;
}

/** The events of one kind, whole (with `choiceIndex` and `providerMetadata`), narrowed to that kind. */
export function eventsOfKind<K extends Kind>(
  evs: readonly StreamEvent[],
  kind: K,
): (StreamEvent & { event: Extract<StreamEvent["event"], { case: K }> })[] {
  return evs.flatMap((e) => (e.event.case === kind ? [e as StreamEvent & { event: Extract<StreamEvent["event"], { case: K }> }] : []));
}

/** The concatenated text deltas (every choice). */
export const textOf = (evs: readonly StreamEvent[]) =>
  ofKind(evs, "textDelta")
    .map((t) => t.text)
    .join("");

/** The concatenated reasoning deltas (every choice). */
export const reasoningOf = (evs: readonly StreamEvent[]) =>
  ofKind(evs, "reasoningDelta")
    .map((t) => t.text)
    .join("");

/** Each event's protobuf encoding, base64: for comparing two runs byte for byte. */
export const binary = (evs: readonly StreamEvent[]) => evs.map((e) => Buffer.from(toBinary(StreamEventSchema, e)).toString("base64"));

/** The ConnectError `p` rejects with; throws when `p` resolves or rejects with anything else. */
export async function codeOf(p: Promise<unknown>): Promise<ConnectError> {
  const outcome = await p.then(
    () => ({ resolved: true as const }),
    (error: unknown) => ({ resolved: false as const, error }),
  );
  if (outcome.resolved) throw new Error("expected a rejection with a ConnectError, but the promise resolved");
  if (!(outcome.error instanceof ConnectError)) throw new Error(`expected a ConnectError, got ${String(outcome.error)}`);
  return outcome.error;
}
