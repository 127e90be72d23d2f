import { defineConfig } from "vitest/config";
import { defaultServerConditions } from "vite";

// Tests run the TypeScript sources directly: the "@airwave/source" export
// condition points each workspace package at src/ instead of dist/.
export default defineConfig({
  ssr: { resolve: { conditions: ["@airwave/source", ...defaultServerConditions] } },
  resolve: { conditions: ["@airwave/source", ...defaultServerConditions] },
  test: {
    include: ["{proto,services,gateway,web,bench}/src/**/*.test.ts", "tests/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
