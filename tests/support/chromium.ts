import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Debian's Chromium (installed by .ci/run); never a downloaded browser build. */
export const chromiumPath = process.env.AIRWAVE_CHROMIUM ?? "/usr/bin/chromium";

/**
 * Launches headless Chromium with flags that keep it off the network (the
 * browser suites and the bench's rendering section).
 * Throws when Chromium is missing (`apt-get install -y chromium`).
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium not found at ${chromiumPath}: apt-get install -y chromium (or set AIRWAVE_CHROMIUM)`);
  }
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}
