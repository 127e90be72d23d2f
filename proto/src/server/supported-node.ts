/**
 * The oldest Node.js major version Airwave's servers run on: the one the
 * project targets and tests (Node 24 LTS; `undici`'s zstd decoder alone
 * needs `zlib.createZstdDecompress`, which older lines lack or only got in
 * late minors).
 */
export const minNodeMajor = 24;

/**
 * The one line an entry point prints on Node.js `version` (`process.version`,
 * `v20.20.2`) when it is older than {@link minNodeMajor}; undefined when it
 * is supported.
 */
export function unsupportedNodeMessage(version: string): string | undefined {
  const major = Number(/^v?(\d+)/.exec(version)?.[1] ?? Number.NaN);
  if (major >= minNodeMajor) return undefined;
  return `Airwave needs Node.js ${minNodeMajor} or newer, this is ${version}: run it with npm (npm start), which uses the Node ${minNodeMajor} that the node@${minNodeMajor} package puts in node_modules/.bin, or install Node ${minNodeMajor}`;
}

// Imported first by every entry point (gateway/src/main.ts,
// services/src/main.ts, start.ts) for this effect: on an older Node.js, one
// line and exit 1, before any dependency that needs a newer Node is
// evaluated (ES modules evaluate their imports in order).
const refusal = unsupportedNodeMessage(process.version);
if (refusal !== undefined) {
  console.error(refusal);
  process.exit(1);
}
