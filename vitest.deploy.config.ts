import { defineConfig } from "vitest/config";
import base from "./vitest.config.ts";

/**
 * `npm run test:deploy`: the image test (tests/deploy/), apart from `npm test` because it needs
 * root and Docker and takes minutes of image builds. The same resolution as the other tests.
 */
export default defineConfig({
  ...base,
  test: { ...base.test, projects: undefined, include: ["tests/deploy/**/*.test.ts"] },
});
