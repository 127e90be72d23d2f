/**
 * Resolves when `p` settles or after `ms`, whichever is first (rejects
 * when `p` rejects first); at once for `ms` ≤ 0. Leaves no timer behind. The bounded waits
 * of shutdown: the hub's grace and flush periods, the WebSocket sessions'
 * flush and close handshakes.
 */
export async function within(p: Promise<unknown>, ms: number): Promise<void> {
  if (ms <= 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
