import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Where the browser test finds Chromium, so it runs on any machine that has one: CHROMIUM_PATH (a test-only setting)
 * first, then a Chromium or Chrome on PATH, then the usual install locations (Debian/Ubuntu packages, snap, macOS,
 * Playwright's own download cache). playwright-core downloads nothing itself.
 */
const NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];

function usualLocations(home: string): string[] {
  const cache = path.join(home, '.cache', 'ms-playwright');
  const downloaded = fs.existsSync(cache)
    ? fs
        .readdirSync(cache)
        .filter((d) => /^chromium(_headless_shell)?-\d+$/.test(d))
        .sort()
        .reverse()
        .flatMap((d) => ['chrome-linux/chrome', 'chrome-linux/headless_shell', 'chrome-headless-shell-linux64/chrome-headless-shell'].map((f) => path.join(cache, d, f)))
    : [];
  return [
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/snap/bin/chromium',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable',
    '/opt/google/chrome/chrome',
    '/Applications/Chromium.app/Contents/MacOS/Chromium',
    '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
    ...downloaded,
  ];
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export interface ChromiumSearch {
  /** The executable to launch, or undefined when none was found. */
  path?: string;
  /** One line: where it came from, or how to install one. */
  message: string;
}

export const INSTALL_HINT =
  'Chromium not found: install it (Debian/Ubuntu: apt-get install chromium; macOS: brew install --cask chromium) or set CHROMIUM_PATH to a Chromium or Chrome executable (e.g. after npx playwright install chromium).';

/** `locations` defaults to the usual install locations under `home` (tests pass their own). */
export function findChromium(env: NodeJS.ProcessEnv = process.env, home = os.homedir(), locations = usualLocations(home)): ChromiumSearch {
  const configured = env.CHROMIUM_PATH?.trim();
  if (configured) {
    return isExecutable(configured)
      ? { path: configured, message: `CHROMIUM_PATH: ${configured}` }
      : { message: `CHROMIUM_PATH=${configured} is not an executable file. ${INSTALL_HINT}` };
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const name of NAMES) {
      const candidate = path.join(dir, name);
      if (isExecutable(candidate)) return { path: candidate, message: `on PATH: ${candidate}` };
    }
  }
  const found = locations.find(isExecutable);
  return found ? { path: found, message: `found at ${found}` } : { message: INSTALL_HINT };
}

/** The Chromium to launch; throws the one-line install hint when there is none. */
export function requireChromium(env: NodeJS.ProcessEnv = process.env, home = os.homedir(), locations = usualLocations(home)): string {
  const search = findChromium(env, home, locations);
  if (!search.path) throw new Error(search.message);
  return search.path;
}
