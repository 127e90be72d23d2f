import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { GenerateRequestSchema, Role, type StreamEvent } from "@airwave/proto";
import { afterAll, expect, it } from "vitest";
import type { HttpProviderSpec, ProviderEndpoint } from "../../services/src/http-provider/http-provider-spec.js";
import {
  describeKindFixtures,
  type FixtureDirs,
  type FixtureSource,
  fixturesRoot as sharedFixturesRoot,
  type UpstreamFixture,
} from "../../services/src/testing/upstream-fixtures.js";
import { startReplayServer } from "./replay-server.js";

/**
 * The shared recorded upstream transcripts (`<fixturesRoot>/upstream/<provider>/`),
 * found through AIRWAVE_FIXTURES (default: `../shared/fixtures` beside the
 * repository): the one `fixturesRoot` of services/src/testing/upstream-fixtures.ts.
 * In CI (env CI set) a missing folder is a failure; elsewhere the suite
 * that needs it is skipped and says why.
 */
export const fixturesRoot = sharedFixturesRoot();

/** Files of one provider folder, sorted; [] when the folder is missing. */
export function upstreamFixtures(provider: string): string[] {
  const dir = join(fixturesRoot, "upstream", provider);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".sse") || f.endsWith(".ndjson"))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * True when the provider's fixtures are present. Throws in CI when they are
 * not; otherwise prints why the suite is skipped.
 */
export function haveFixtures(provider: string): boolean {
  if (upstreamFixtures(provider).length > 0) return true;
  const why = `no fixtures at ${join(fixturesRoot, "upstream", provider)} (set AIRWAVE_FIXTURES)`;
  if (process.env.CI) throw new Error(`${why}: required in CI`);
  console.warn(`skipping: ${why}`);
  return false;
}

/** A running replay server (tests/support/replay-server.ts). */
export type ReplayServer = Awaited<ReturnType<typeof startReplayServer>>;

/**
 * Replay servers over the folders of `upstream` (a fixture source's
 * `upstream` folder), started on first use, one per folder, unpaced; all
 * closed after the enclosing suite. Call it while declaring the suite.
 */
export function replayServers(upstream: string): (dir: string) => Promise<ReplayServer> {
  const servers = new Map<string, Promise<ReplayServer>>();
  afterAll(async () => {
    for (const s of servers.values()) await (await s).close();
  });
  return (dir) => {
    let s = servers.get(dir);
    if (!s) {
      s = startReplayServer(join(upstream, dir), { paceMs: 0 });
      servers.set(dir, s);
    }
    return s;
  };
}

/**
 * Airwave's side of a differential test: the events `spec` decodes from the
 * replay server for fixture `file`, asked for with a one-message "hi"
 * request for model `<kind>/<file>` (upstream model `upstreamModel`,
 * default `file`). Checks that the request goes to `path` when given, and
 * that the server answers 200.
 */
export async function airwaveEvents(
  spec: HttpProviderSpec,
  file: string,
  endpoint: ProviderEndpoint,
  o: { upstreamModel?: string; path?: string } = {},
): Promise<StreamEvent[]> {
  const req = create(GenerateRequestSchema, {
    model: `${spec.kind}/${file}`,
    messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: "hi" } }] }],
  });
  const r = spec.request(req, o.upstreamModel ?? file, endpoint);
  if (o.path !== undefined) expect(new URL(r.url).pathname).toBe(o.path);
  const res = await fetch(r.url, { method: r.method ?? "POST", headers: r.headers, body: r.body });
  expect(res.status).toBe(200);
  if (!res.body) throw new Error("no body");
  return Array.fromAsync(spec.decode(res.body, endpoint));
}

/** The numeric counts of an accumulated usage, without protobuf-es's `$typeName`; undefined stays undefined. */
export function plainUsage(u: object | undefined): Record<string, number> | undefined {
  return (
    u && Object.fromEntries(Object.entries(u).filter((kv): kv is [string, number] => kv[0] !== "$typeName" && typeof kv[1] === "number"))
  );
}

/**
 * A differential suite over the `kind` bodies of `dirs` of each fixture
 * source (`describeKindFixtures`: at least `least[source]` of them): for
 * each body, `<dir>/<file> accumulates to what the SDK reads` runs
 * `compare` against a replay server of the body's folder. `more` declares
 * further tests in the same suite, with the same servers.
 */
export function describeSdkComparison(
  title: string,
  kind: string,
  dirs: FixtureDirs,
  least: { readonly project: number; readonly shared: number },
  compare: (server: ReplayServer, file: string, name: string) => Promise<void>,
  more?: (fixtures: readonly UpstreamFixture[], source: FixtureSource, serverFor: (dir: string) => Promise<ReplayServer>) => void,
): void {
  describeKindFixtures(title, kind, dirs, least, (fixtures, source) => {
    const serverFor = replayServers(source.upstream);
    it.each(fixtures.map((f) => [f.name]))("%s accumulates to what the SDK reads", async (name) => {
      const [dir = "", file = ""] = name.split("/");
      await compare(await serverFor(dir), file, name);
    });
    more?.(fixtures, source, serverFor);
  });
}
