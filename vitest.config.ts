import { configDefaults, defineConfig } from "vitest/config";
import { defaultServerConditions } from "vite";

/**
 * Test files that measure the gateway's event loop under load, and the
 * browser's long tasks with a 10 MB answer: a project of their own in its
 * own `sequence.groupOrder`, so they never run beside another file and the
 * other files' CPU does not become the figure they assert.
 */
const alone = ["tests/e2e/event-loop.test.ts", "bench/src/long-answer.test.ts"];

/** The image test: `npm run test:deploy` (vitest.deploy.config.ts), never in `npm test`. */
const deploy = ["tests/deploy/**"];

// Tests run the TypeScript sources directly: the "@airwave/source" export
// condition points each workspace package at src/ instead of dist/.
export default defineConfig({
  ssr: { resolve: { conditions: ["@airwave/source", ...defaultServerConditions] } },
  resolve: { conditions: ["@airwave/source", ...defaultServerConditions] },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    projects: [
      {
        extends: true,
        test: {
          name: "airwave",
          include: ["{proto,services,gateway,web,bench}/src/**/*.test.ts", "react/src/**/*.test.{ts,tsx}", "tests/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...alone, ...deploy],
          sequence: { groupOrder: 0 },
        },
      },
      { extends: true, test: { name: "alone", include: alone, sequence: { groupOrder: 1 } } },
    ],
  },
});
