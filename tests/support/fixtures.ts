import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";

/**
 * The recorded upstream transcripts (`../shared/fixtures/upstream/<provider>/`),
 * found through AIRWAVE_FIXTURES (default: `../shared/fixtures` beside the
 * repository). In CI (env CI set) a missing folder is a failure; elsewhere
 * the suite that needs it is skipped and says why.
 */
export const fixturesRoot = resolve(process.env.AIRWAVE_FIXTURES ?? resolve(import.meta.dirname, "../../../shared/fixtures"));

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
