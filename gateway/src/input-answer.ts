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
export function checkAnswer(asked: InputRequested, text: string): string {
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

/** FAILED_PRECONDITION with `airwave-reason` {@link INPUT_NOT_PENDING}. */
export function notPending(message: string): ConnectError {
  return new ConnectError(message, Code.FailedPrecondition, { "airwave-reason": INPUT_NOT_PENDING });
}
