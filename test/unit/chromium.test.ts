import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { INSTALL_HINT, findChromium, requireChromium } from '../support/chromium';

/** The browser test must run wherever a Chromium is, and say in one line what to do where none is. */
let dir: string;
let empty: string;

function executable(file: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, '#!/bin/sh\n');
  fs.chmodSync(file, 0o755);
  return file;
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-search-'));
  empty = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-home-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(empty, { recursive: true, force: true });
});

describe('finding Chromium for the browser test', () => {
  it('takes CHROMIUM_PATH first', () => {
    const custom = executable(path.join(dir, 'custom', 'my-chrome'));
    const onPath = executable(path.join(dir, 'bin', 'chromium'));
    expect(findChromium({ CHROMIUM_PATH: custom, PATH: path.dirname(onPath) }, empty).path).toBe(custom);
  });

  it('says so when CHROMIUM_PATH names no executable, rather than silently using another browser', () => {
    const search = findChromium({ CHROMIUM_PATH: path.join(dir, 'nope'), PATH: path.join(dir, 'bin') }, empty);
    expect(search.path).toBeUndefined();
    expect(search.message).toContain('CHROMIUM_PATH=');
  });

  it('then looks on PATH for chromium, chromium-browser or Chrome', () => {
    const chrome = executable(path.join(dir, 'other', 'google-chrome'));
    expect(findChromium({ PATH: ['/nonexistent', path.dirname(chrome)].join(path.delimiter) }, empty).path).toBe(chrome);
  });

  it('then in the usual install locations, Playwright\'s download cache last', () => {
    const home = path.join(dir, 'home');
    const downloaded = executable(path.join(home, '.cache', 'ms-playwright', 'chromium-1200', 'chrome-linux', 'chrome'));
    const system = path.join(dir, 'usr-bin-chromium');
    const usual = (extra: string[]) => [...extra, path.join(home, '.cache', 'ms-playwright', 'chromium-1200', 'chrome-linux', 'chrome')];
    expect(findChromium({ PATH: '/nonexistent' }, home, usual([system])).path).toBe(downloaded);
    executable(system);
    expect(findChromium({ PATH: '/nonexistent' }, home, usual([system])).path).toBe(system);
  });

  it('fails with one line saying how to install it when there is none', () => {
    const search = findChromium({ PATH: '/nonexistent' }, empty, [path.join(dir, 'not-installed')]);
    expect(search).toEqual({ message: INSTALL_HINT });
    expect(INSTALL_HINT).not.toContain('\n');
    expect(INSTALL_HINT).toMatch(/apt-get install chromium/);
    expect(() => requireChromium({ PATH: '/nonexistent' }, empty, [])).toThrow(INSTALL_HINT);
  });
});
