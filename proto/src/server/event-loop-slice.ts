import { setImmediate as nextTurn } from "node:timers/promises";

/**
 * Longest run of synchronous work, in milliseconds, that one stream's loop
 * (the simulator producing an unpaced answer, the gateway appending a burst
 * of events that arrived in one read) does before it lets the event loop
 * turn, so other requests (`/healthz`, other streams) are served between
 * slices.
 */
export const eventLoopSliceMs = 2;

/**
 * Fewest steps between two turns: a loop whose steps are far apart (events
 * that arrive one by one) never waits for a turn it does not need, and a
 * test that drives a handful of steps with fake timers or a scheduler sees
 * no extra macrotask.
 */
export const eventLoopSliceMinSteps = 16;

/**
 * A slice clock for a loop of small synchronous steps: call the returned
 * function after each step; once {@link eventLoopSliceMs} (or `sliceMs`)
 * have passed and at least {@link eventLoopSliceMinSteps} steps were made
 * since the last turn, it returns a promise that resolves on the next turn
 * of the event loop (`setImmediate`, after pending I/O), else `undefined`,
 * so the common step costs no `await`.
 *
 * @example
 * const slice = eventLoopSlice();
 * for (const e of events) { handle(e); await slice(); }
 */
export function eventLoopSlice(sliceMs = eventLoopSliceMs): () => Promise<void> | undefined {
  let turned = performance.now();
  let steps = 0;
  return () => {
    if (++steps < eventLoopSliceMinSteps || performance.now() - turned < sliceMs) return undefined;
    return nextTurn().then(() => {
      turned = performance.now();
      steps = 0;
    });
  };
}
