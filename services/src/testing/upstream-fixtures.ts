import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { fixtureKind } from "../providers/fixture-kind.js";

/** One upstream response body, recorded or written from the provider's documentation. @private test support */
export interface UpstreamFixture {
  /** `<provider dir>/<file>`, e.g. `openai-chat/tool-call-get-weather.sse`. */
  readonly name: string;
  /** Absolute path. */
  readonly path: string;
  /** The file's bytes. */
  readonly bytes: Uint8Array;
}

/**
 * Where a suite's bodies come from:
 * - `project`: the repository's own fixtures, `services/fixtures/upstream/`
 *   (services/fixtures/upstream/README.md says what each file exercises and
 *   which documentation page it was written from). Always present: a missing
 *   folder fails the suite.
 * - `shared`: the recordings under {@link fixturesRoot}`/upstream/`, kept
 *   outside the repository. A missing folder fails the suite when env `CI`
 *   is set, and skips it with a console note otherwise.
 *
 * @private test support
 */
export interface FixtureSource {
  readonly name: "project" | "shared";
  /** The source's `upstream` folder, holding one folder per provider dir (for replay servers). */
  readonly upstream: string;
}

/**
 * Which folders of a source a suite reads: the named ones, or `"every"`
 * folder present (for the suites that pick their kind's files from all of
 * them by content, `fixtureKind`: compatible servers record the same wire
 * formats under their own names). @private test support
 */
export type FixtureDirs = readonly string[] | "every";

/**
 * The shared recordings' folder: env `AIRWAVE_FIXTURES`, default
 * `../shared/fixtures` relative to the repository root.
 */
export function fixturesRoot(): string {
  const repoRoot = resolve(import.meta.dirname, "../../..");
  return resolve(repoRoot, process.env["AIRWAVE_FIXTURES"] ?? "../shared/fixtures");
}

/** The two sources, project first. */
function sources(): FixtureSource[] {
  return [
    { name: "project", upstream: resolve(import.meta.dirname, "../../fixtures/upstream") },
    { name: "shared", upstream: join(fixturesRoot(), "upstream") },
  ];
}

/** The folders `dirs` names under `upstream`, sorted for `"every"`; `[]` for `"every"` without the folder. */
function foldersOf(upstream: string, dirs: FixtureDirs): string[] {
  if (dirs !== "every") return [...dirs];
  if (!existsSync(upstream)) return [];
  return readdirSync(upstream, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/** The `.sse` and `.ndjson` files of `folders`, sorted by folder then file name. */
function read(upstream: string, folders: readonly string[]): UpstreamFixture[] {
  return folders.flatMap((d) =>
    readdirSync(join(upstream, d))
      .filter((f) => f.endsWith(".sse") || f.endsWith(".ndjson"))
      .sort()
      .map((f) => ({ name: `${d}/${f}`, path: join(upstream, d, f), bytes: new Uint8Array(readFileSync(join(upstream, d, f))) })),
  );
}

/** A suite whose only test fails with `why`. */
function failing(title: string, why: string): void {
  describe(title, () => {
    it("has its upstream fixtures", () => {
      throw new Error(why);
    });
  });
}

/**
 * Declares `fn`'s tests twice: as `<title> over the project's fixtures`
 * (always run) and as `<title> over the shared recordings`, each over the
 * bodies in `<upstream>/<dir>/` of that {@link FixtureSource} for each of
 * `dirs`. `fn` gets the source too, for the tests that name particular
 * files or count them. A missing folder of the project's fixtures is a
 * failure; a missing folder of the shared recordings is a failure when env
 * `CI` is set, and skips that suite with a console note saying why
 * otherwise. Files are read in place, never copied.
 */
export function describeUpstreamFixtures(
  title: string,
  dirs: FixtureDirs,
  fn: (fixtures: readonly UpstreamFixture[], source: FixtureSource) => void,
): void {
  for (const source of sources()) {
    const suite = `${title} ${source.name === "project" ? "over the project's fixtures" : "over the shared recordings"}`;
    const folders = foldersOf(source.upstream, dirs);
    const wanted = folders.length > 0 ? folders.map((d) => join(source.upstream, d)) : [source.upstream];
    const missing = wanted.filter((p) => !existsSync(p));
    if (missing.length === 0) {
      describe(suite, () => fn(read(source.upstream, folders), source));
      continue;
    }
    const hint = source.name === "project" ? "the repository's own fixtures are missing" : "set AIRWAVE_FIXTURES to the fixtures folder";
    const why = `upstream fixtures not found: ${missing.join(", ")} (${hint})`;
    if (source.name === "project" || process.env["CI"]) {
      failing(suite, why);
      continue;
    }
    console.warn(`skipping "${suite}": ${why}`);
    describe.skip(suite, () => fn([], source));
  }
}

/**
 * {@link describeUpstreamFixtures} over the bodies of one provider kind
 * (`fixtureKind`): `fn` gets only those, and each suite first checks that
 * there are at least `least[source]` of them (so no suite passes by
 * reading nothing).
 */
export function describeKindFixtures(
  title: string,
  kind: string,
  dirs: FixtureDirs,
  least: { readonly project: number; readonly shared: number },
  fn: (fixtures: readonly UpstreamFixture[], source: FixtureSource) => void,
): void {
  describeUpstreamFixtures(title, dirs, (all, source) => {
    const fixtures = all.filter((f) => fixtureKind(f.name, f.bytes) === kind);
    it(`has at least ${least[source.name]} ${kind} bodies`, () => {
      expect(fixtures.length).toBeGreaterThanOrEqual(least[source.name]);
    });
    fn(fixtures, source);
  });
}
