import { Code, ConnectError } from "@connectrpc/connect";
import type { InputChannel } from "./provider.js";

/** Options of {@link createInputChannel}. */
export interface InputChannelOptions {
  /**
   * Most answers kept that no {@link InputChannel.wait} has asked for yet;
   * further ones are ignored (their `answer` returns false). Default 64.
   */
  readonly maxUnclaimed?: number;
}

/**
 * The writing side of an {@link InputChannel}: what `InferenceService.Interact`
 * feeds with the `input` messages of its call.
 */
export interface InputQueue extends InputChannel {
  /**
   * Delivers the answer `text` to `inputId`: resolves the waits for it now,
   * or keeps it for a later wait. Returns false when it is ignored: the
   * channel is closed, `inputId` already has an answer (the first one wins),
   * or {@link InputChannelOptions.maxUnclaimed} answers are already waiting
   * to be claimed.
   */
  answer(inputId: string, text: string): boolean;
  /**
   * No more input can come (the caller closed its side of the call, or the
   * call ended): pending and later waits for an id without an answer reject
   * with Code.FailedPrecondition. Answers already received stay claimable.
   * Idempotent.
   */
  close(): void;
  /** True once {@link close} was called. */
  readonly closed: boolean;
}

interface Waiter {
  resolve(text: string): void;
  reject(err: unknown): void;
}

/**
 * Creates the input channel of one generation: a small queue of answers
 * keyed by `input_id`. Each id is answered at most once; a wait for it
 * resolves with that answer whether it came before or after the wait (so an
 * answer racing the `input_requested` that asked for it is not lost). At
 * most `maxUnclaimed` (default 64) answers nobody waited for are held, so a
 * caller cannot grow it without bound.
 */
export function createInputChannel(o: InputChannelOptions = {}): InputQueue {
  const maxUnclaimed = o.maxUnclaimed ?? 64;
  /** Answers received and not yet waited for. */
  const unclaimed = new Map<string, string>();
  /** Answers already handed to a wait (kept so a repeated wait gets the same one). */
  const claimed = new Map<string, string>();
  const waiters = new Map<string, Set<Waiter>>();
  let closed = false;

  return {
    get closed() {
      return closed;
    },
    answer(inputId, text) {
      if (closed || unclaimed.has(inputId) || claimed.has(inputId)) return false;
      const ws = waiters.get(inputId);
      if (ws) {
        waiters.delete(inputId);
        claimed.set(inputId, text);
        for (const w of ws) w.resolve(text);
        return true;
      }
      if (unclaimed.size >= maxUnclaimed) return false;
      unclaimed.set(inputId, text);
      return true;
    },
    close() {
      if (closed) return;
      closed = true;
      const all = [...waiters.values()];
      waiters.clear();
      for (const ws of all) for (const w of ws) w.reject(noMoreInput());
    },
    wait(inputId, signal) {
      const have = unclaimed.get(inputId) ?? claimed.get(inputId);
      if (have !== undefined) {
        unclaimed.delete(inputId);
        claimed.set(inputId, have);
        return Promise.resolve(have);
      }
      if (signal.aborted) return Promise.reject(signal.reason);
      if (closed) return Promise.reject(noMoreInput());
      return new Promise<string>((resolve, reject) => {
        const onAbort = () => {
          const ws = waiters.get(inputId);
          ws?.delete(w);
          if (ws?.size === 0) waiters.delete(inputId);
          reject(signal.reason);
        };
        const w: Waiter = {
          resolve(text) {
            signal.removeEventListener("abort", onAbort);
            resolve(text);
          },
          reject(err) {
            signal.removeEventListener("abort", onAbort);
            reject(err);
          },
        };
        signal.addEventListener("abort", onAbort, { once: true });
        let ws = waiters.get(inputId);
        if (!ws) waiters.set(inputId, (ws = new Set()));
        ws.add(w);
      });
    },
  };
}

function noMoreInput(): ConnectError {
  return new ConnectError("no more input can come: the request side of the call is closed", Code.FailedPrecondition);
}
