import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, it } from "vitest";

/** One recorded upstream response body. @private test support */
export interface UpstreamFixture {
  /** `<provider dir>/<file>`, e.g. `openai-chat/tool-call-single.sse`. */
  readonly name: string;
  /** Absolute path. */
  readonly path: string;
  /** The file's bytes. */
  readonly bytes: Uint8Array;
}

/**
 * Every folder of recorded upstream bodies present under
 * `<fixtures>/upstream/`, sorted, for the suites that pick their provider's
 * files from all of them by content (`fixtureKind`): compatible servers
 * record the same wire formats under their own names. Without the fixtures
 * folder, `[expected]`, so that {@link describeUpstreamFixtures} reports it
 * missing (a failure in CI). @private test support
 */
export function upstreamFixtureDirs(expected: string): string[] {
  const root = join(fixturesRoot(), "upstream");
  if (!existsSync(root)) return [expected];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/**
 * The fixtures folder: env `AIRWAVE_FIXTURES`, default `../shared/fixtures`
 * relative to the repository root.
 */
export function fixturesRoot(): string {
  const repoRoot = resolve(import.meta.dirname, "../../..");
  return resolve(repoRoot, process.env["AIRWAVE_FIXTURES"] ?? "../shared/fixtures");
}

/**
 * Declares a suite over the recorded upstream bodies in
 * `<fixtures>/upstream/<dir>/` for each of `dirs`. When a folder is missing,
 * the suite fails if env `CI` is set, and is skipped with a console note
 * saying why otherwise. Fixture files are read in place, never copied.
 */
export function describeUpstreamFixtures(title: string, dirs: readonly string[], fn: (fixtures: readonly UpstreamFixture[]) => void): void {
  const root = join(fixturesRoot(), "upstream");
  const missing = dirs.map((d) => join(root, d)).filter((p) => !existsSync(p));
  if (missing.length > 0) {
    const why = `upstream fixtures not found: ${missing.join(", ")} (set AIRWAVE_FIXTURES to the fixtures folder)`;
    if (process.env["CI"]) {
      describe(title, () => {
        it("has its recorded upstream fixtures", () => {
          throw new Error(why);
        });
      });
      return;
    }
    console.warn(`skipping "${title}": ${why}`);
  }
  describe.skipIf(missing.length > 0)(title, () => {
    const fixtures =
      missing.length > 0
        ? []
        : dirs.flatMap((d) =>
            readdirSync(join(root, d))
              .filter((f) => f.endsWith(".sse") || f.endsWith(".ndjson"))
              .sort()
              .map((f) => ({ name: `${d}/${f}`, path: join(root, d, f), bytes: new Uint8Array(readFileSync(join(root, d, f))) })),
          );
    fn(fixtures);
  });
}
