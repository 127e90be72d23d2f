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

/** The value of the terminal event of `evs` when it is `completed`, with {@link terminalEventOf}'s checks; throws when it is `failed`. */
export function completedOf(evs: readonly StreamEvent[]): ValueOf<"completed"> {
  const t = terminalOf(evs);
  if (t.case !== "completed") throw new Error(`expected completed, got ${t.case}`);
  return t.value;
}

/** The value of the terminal event of `evs` when it is `failed`, with {@link terminalEventOf}'s checks; throws when it is `completed`. */
export function failedOf(evs: readonly StreamEvent[]): ValueOf<"failed"> {
  const t = terminalOf(evs);
  if (t.case !== "failed") throw new Error(`expected failed, got ${t.case}`);
  return t.value;
}

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

/** The concatenated text deltas: of every choice, or of choice `choice` only when given. */
export const textOf = (evs: readonly StreamEvent[], choice?: number) =>
  eventsOfKind(evs, "textDelta")
    .filter((e) => choice === undefined || e.choiceIndex === choice)
    .map((e) => e.event.value.text)
    .join("");

/** The concatenated reasoning deltas: of every choice, or of choice `choice` only when given. */
export const reasoningOf = (evs: readonly StreamEvent[], choice?: number) =>
  eventsOfKind(evs, "reasoningDelta")
    .filter((e) => choice === undefined || e.choiceIndex === choice)
    .map((e) => e.event.value.text)
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
