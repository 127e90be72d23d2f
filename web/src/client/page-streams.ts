import { formatCursor, isTerminal, ResumeOutcome, retryableCodes, type StreamEvent } from "@airwave/proto";
import { Code } from "@connectrpc/connect";
import { toConnectError } from "./errors.js";
import { streamUrl } from "./http-send.js";
import type { ResumableStream } from "./resume-loop.js";

/**
 * What leaving the page (`pagehide`) does to the streams it follows:
 * - `"detach"`: nothing on the gateway; the saved entries stay, and the
 *   generation runs on for its grace period (its `on_detach` policy), so
 *   the page resumes it after a reload;
 * - `"cancel"`: each saved stream is cancelled with `navigator.sendBeacon`
 *   (`POST /v1/streams/{id}:cancel`, which survives the unload) and forgotten.
 */
export type PageHidePolicy = "detach" | "cancel";

/** A stream the page followed, as saved in session storage. */
export interface SavedStream {
  /** The stream id. */
  readonly streamId: string;
  /** The cursor of the last event received (`"<epoch>:<seq>"`); absent before the first one. */
  readonly cursor?: string | undefined;
}

/** The part of `window` {@link createPageStreams} uses. */
export interface PageWindow {
  addEventListener(type: "pagehide" | "visibilitychange", listener: () => void): void;
  removeEventListener(type: "pagehide" | "visibilitychange", listener: () => void): void;
  /** Schedules the throttled writes; without it they wait 100 ms. */
  requestAnimationFrame?: ((callback: () => void) => number) | undefined;
}

/** Options of {@link createPageStreams}. */
export interface PageStreamsOptions {
  /** The gateway's origin (and path prefix, if any), for the cancel beacon. */
  readonly baseUrl: string;
  /** What `pagehide` does. @defaultValue `"detach"` */
  readonly onPageHide?: PageHidePolicy | undefined;
  /** Where entries are kept. @defaultValue `globalThis.sessionStorage` (per tab, survives reloads) */
  readonly storage?: Pick<Storage, "getItem" | "setItem" | "removeItem"> | undefined;
  /** The storage key. @defaultValue `"airwave.streams"` */
  readonly key?: string | undefined;
  /** The window whose `pagehide` and `visibilitychange` are followed. @defaultValue `globalThis.window` */
  readonly window?: PageWindow | undefined;
  /** `navigator.sendBeacon`, for the `"cancel"` policy. @defaultValue `globalThis.navigator.sendBeacon` */
  readonly sendBeacon?: ((url: string, data?: string | Blob | null) => boolean) | undefined;
}

/** The streams of a page, kept across reloads; see {@link createPageStreams}. */
export interface PageStreams {
  /**
   * Follows `stream`'s iterations: its id and the cursor of each event are
   * saved (writes throttled to one per animation frame, and flushed on
   * `pagehide`); the entry is removed after the terminal event, or when the
   * stream fails for good (a non-retryable code other than Canceled, e.g.
   * NotFound). A local stop (Code.Canceled) keeps it.
   */
  track(stream: ResumableStream): ResumableStream;
  /**
   * The saved streams (from before a reload, and those tracked since), oldest first.
   * Resume each with `client.watch(streamId)` (replays the stream from its
   * start, to render it again) or `client.watch(streamId, cursor)` (only what
   * follows the cursor, for an app that kept what it rendered).
   */
  restore(): SavedStream[];
  /** Removes a stream's entry, e.g. after the user dismissed it. */
  forget(streamId: string): void;
  /** Writes pending changes now. */
  flush(): void;
  /** Stops following `pagehide` (entries stay saved). */
  dispose(): void;
}

/**
 * Keeps the page's running streams in session storage so a reloaded page
 * resumes them, and applies the `pagehide` policy ({@link PageHidePolicy}).
 * Storage failures (quota, disabled storage) are ignored: the page then just
 * cannot resume after a reload. A malformed saved value is ignored.
 *
 * The cancel beacon carries the page's cookies but no `Authorization`
 * header: with an API key, use `"detach"` (the gateway's grace period ends
 * an abandoned generation) or cancel explicitly.
 *
 * @example
 * const page = createPageStreams({ baseUrl: location.origin, onPageHide: "detach" });
 * for (const saved of page.restore()) void render(page.track(client.watch(saved.streamId)));
 * sendButton.onclick = () => render(page.track(client.stream({ request })));
 */
export function createPageStreams(o: PageStreamsOptions): PageStreams {
  const storage = o.storage ?? globalThis.sessionStorage;
  const key = o.key ?? "airwave.streams";
  const win = o.window ?? (globalThis as { window?: PageWindow }).window;
  const policy = o.onPageHide ?? "detach";
  const entries = load();
  let dirty = false;
  let scheduled = false;

  function load(): Map<string, { cursor?: string | undefined }> {
    const m = new Map<string, { cursor?: string | undefined }>();
    try {
      const saved: unknown = JSON.parse(storage.getItem(key) ?? "[]");
      if (Array.isArray(saved)) {
        for (const x of saved as unknown[]) {
          const r = typeof x === "object" && x !== null ? (x as Record<string, unknown>) : {};
          if (typeof r["streamId"] !== "string" || r["streamId"] === "") continue;
          m.set(r["streamId"], typeof r["cursor"] === "string" ? { cursor: r["cursor"] } : {});
        }
      }
    } catch {
      // Nothing usable saved.
    }
    return m;
  }

  function flush(): void {
    if (!dirty) return;
    dirty = false;
    try {
      if (entries.size === 0) storage.removeItem(key);
      else storage.setItem(key, JSON.stringify([...entries].map(([streamId, e]) => ({ streamId, ...e }))));
    } catch {
      // Quota or disabled storage: resuming after a reload is best effort.
    }
  }

  function changed(): void {
    dirty = true;
    if (scheduled) return;
    scheduled = true;
    const run = () => {
      scheduled = false;
      flush();
    };
    if (win?.requestAnimationFrame) win.requestAnimationFrame(run);
    else setTimeout(run, 100);
  }

  function onPageHide(): void {
    if (policy === "cancel") {
      const nav = (globalThis as { navigator?: { sendBeacon?: (url: string, data?: string | Blob | null) => boolean } }).navigator;
      const beacon = o.sendBeacon ?? nav?.sendBeacon?.bind(nav);
      for (const streamId of [...entries.keys()]) {
        beacon?.(`${streamUrl(o.baseUrl, streamId)}:cancel`, JSON.stringify({ reason: "pagehide" }));
        entries.delete(streamId);
      }
      dirty = true;
    }
    flush();
  }
  win?.addEventListener("pagehide", onPageHide);
  win?.addEventListener("visibilitychange", flush);

  function note(streamId: string, e: StreamEvent): void {
    const entry = entries.get(streamId);
    if (entry === undefined) return;
    if (e.seq > 0) entry.cursor = formatCursor({ epoch: e.epoch, seq: e.seq });
    else if (e.event.case === "resumed" && e.event.value.outcome !== ResumeOutcome.RECOVERED && e.event.value.cursor !== "") {
      entry.cursor = e.event.value.cursor;
    } else return;
    changed();
  }

  return {
    track(stream) {
      const { streamId } = stream;
      return {
        streamId,
        async *[Symbol.asyncIterator](): AsyncGenerator<StreamEvent, void, undefined> {
          if (!entries.has(streamId)) {
            entries.set(streamId, {});
            changed();
          }
          try {
            for await (const e of stream) {
              if (isTerminal(e)) {
                entries.delete(streamId);
                changed();
              } else note(streamId, e);
              yield e;
            }
          } catch (err) {
            const code = toConnectError(err).code;
            if (code !== Code.Canceled && !retryableCodes.has(code) && entries.delete(streamId)) changed();
            throw err;
          }
        },
      };
    },
    restore: () => [...entries].map(([streamId, e]) => ({ streamId, ...e })),
    forget(streamId) {
      if (entries.delete(streamId)) changed();
    },
    flush,
    dispose() {
      win?.removeEventListener("pagehide", onPageHide);
      win?.removeEventListener("visibilitychange", flush);
    },
  };
}
