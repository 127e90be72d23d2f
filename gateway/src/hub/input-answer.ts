import { type InputRequested, InputKind } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";

/** Bounds of a `Hub.sendInput` answer. */
export const inputLimits = {
  /** Longest answer text, in UTF-8 bytes (16 KiB). */
  maxTextBytes: 16 * 1024,
  /** Longest input_id, in characters. */
  maxInputIdChars: 128,
} as const;

/** The `airwave-reason` of SendInput's FAILED_PRECONDITION when the stream has ended. */
export const STREAM_ENDED = "STREAM_ENDED";
/** The `airwave-reason` of SendInput's FAILED_PRECONDITION when no such input is waiting. */
export const INPUT_NOT_PENDING = "INPUT_NOT_PENDING";

/**
 * The answer text to pass on for `asked`, normalised (a confirm
 * lower-cased, a choice as listed). Raises INVALID_ARGUMENT for an answer the
 * request does not allow or a text over the cap.
 */
function checkAnswer(asked: InputRequested, text: string): string {
  if (Buffer.byteLength(text, "utf8") > inputLimits.maxTextBytes) {
    throw new ConnectError(`text: at most ${inputLimits.maxTextBytes} bytes`, Code.InvalidArgument);
  }
  switch (asked.kind) {
    case InputKind.CONFIRM: {
      const t = text.trim().toLowerCase();
      if (t !== "yes" && t !== "no")
        throw new ConnectError('text: this input is a confirmation; answer "yes" or "no"', Code.InvalidArgument);
      return t;
    }
    case InputKind.CHOICE: {
      if (asked.choices.includes(text)) return text;
      const folded = asked.choices.filter((c) => c.toLowerCase() === text.trim().toLowerCase());
      if (folded.length === 1) return folded[0] as string;
      throw new ConnectError(`text: answer one of ${JSON.stringify(asked.choices).slice(0, 500)}`, Code.InvalidArgument);
    }
    default:
      if (text.trim() === "") throw new ConnectError("text: an answer is required", Code.InvalidArgument);
      return text;
  }
}

/** What of a generation the input rules read and use: its pending inputs, and the Interact call's request side. */
export interface InputTarget {
  /** False once the generation ended. */
  readonly running: boolean;
  /** Inputs requested in the log and not yet answered, by input_id. */
  readonly pendingInputs: ReadonlyMap<string, InputRequested>;
  /** True when `inputId` was answered already. */
  wasAnswered(inputId: string): boolean;
  /** Passes the answer on; false when the input is not pending (any more). */
  sendInput(inputId: string, text: string): boolean;
}

/**
 * Answers a pending input of `g` (`Hub.sendInput`): picks the input
 * (`req.inputId`, or the only one pending when empty), checks the answer
 * ({@link checkAnswer}) and passes it on. Returns the input_id answered.
 *
 * Raises FAILED_PRECONDITION with `airwave-reason` {@link STREAM_ENDED}
 * (`ended`, or the generation stopped) or {@link INPUT_NOT_PENDING};
 * INVALID_ARGUMENT for an input_id over {@link inputLimits}.maxInputIdChars,
 * an empty input_id while several are pending, or an answer the request
 * does not allow.
 */
export function answerInput(g: InputTarget, ended: boolean, req: { readonly inputId: string; readonly text: string }): string {
  if (ended || !g.running) {
    throw new ConnectError("the stream has ended; no input can reach it", Code.FailedPrecondition, {
      "airwave-reason": STREAM_ENDED,
    });
  }
  if (req.inputId.length > inputLimits.maxInputIdChars) {
    throw new ConnectError(`input_id: at most ${inputLimits.maxInputIdChars} characters`, Code.InvalidArgument);
  }
  const pending = g.pendingInputs;
  let inputId = req.inputId;
  if (inputId === "") {
    if (pending.size > 1) {
      throw new ConnectError(`input_id: required, ${pending.size} inputs are pending`, Code.InvalidArgument);
    }
    inputId = pending.keys().next().value ?? "";
    if (inputId === "") throw notPending("no input is pending");
  }
  const asked = pending.get(inputId);
  if (!asked) throw notPending(g.wasAnswered(inputId) ? "this input was already answered" : "no such input is pending");
  const text = checkAnswer(asked, req.text);
  if (!g.sendInput(inputId, text)) throw notPending("no such input is pending");
  return inputId;
}

/** FAILED_PRECONDITION with `airwave-reason` {@link INPUT_NOT_PENDING}. */
function notPending(message: string): ConnectError {
  return new ConnectError(message, Code.FailedPrecondition, { "airwave-reason": INPUT_NOT_PENDING });
}
