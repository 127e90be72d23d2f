// Makes sure Debian's Chromium is there for the browser tests: installs it
// with apt-get when missing and running as root, otherwise says how.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

const path = process.env.AIRWAVE_CHROMIUM ?? "/usr/bin/chromium";
if (existsSync(path)) process.exit(0);
const isRoot = process.getuid?.() === 0;
const hasApt = existsSync("/usr/bin/apt-get");
if (!isRoot || !hasApt) {
  console.error(
    `Chromium not found at ${path}; the browser tests need it.\n` +
      `Install it with: sudo apt-get install -y chromium (or set AIRWAVE_CHROMIUM to a Chromium binary).`,
  );
  process.exit(1);
}
console.log("Installing Chromium from Debian's packages for the browser tests…");
const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
execFileSync("apt-get", ["install", "-y", "-qq", "chromium"], { stdio: "inherit", env });
