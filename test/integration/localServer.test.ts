import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { SERVER_JS } from '../world/paths';

/**
 * `npm run serve` has no Functions host in front of it, so no function key is checked: it says so when it starts,
 * and binds to 127.0.0.1 unless HOST says otherwise.
 */
const SERVER = SERVER_JS;
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

/** Starts the built server with exactly `env` (no HOST unless given) and returns its first line and port. */
function serve(env: Record<string, string>): Promise<{ line: string; port: number }> {
  const child = spawn(process.execPath, [SERVER], { env: { PATH: process.env.PATH ?? '', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start line:\n${out}`)), 15_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = out.match(/^.*listening on http:\/\/[^:]+:(\d+).*$/m);
      if (m) {
        clearTimeout(timer);
        resolve({ line: m[0], port: Number(m[1]) });
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  });
}

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('the local server (npm run serve)', () => {
  it('binds to 127.0.0.1 by default, and says plainly that it does not enforce function keys', async () => {
    const { line, port } = await serve({});
    expect(line).toContain('listening on http://127.0.0.1:');
    expect(line).toContain('function keys are not enforced');
    expect(await connects('127.0.0.1', port)).toBe(true);
    // Another loopback address of the same machine is not served: the socket is bound to 127.0.0.1 alone, not 0.0.0.0.
    expect(await connects('127.0.0.2', port)).toBe(false);
  });

  it('serves /api/diagnose without any key, since nothing checks one here', async () => {
    const { port } = await serve({});
    const res = await fetch(`http://127.0.0.1:${port}/api/diagnose`);
    expect(res.status).toBe(200);
  });

  it('binds where HOST says when told otherwise', async () => {
    const { line, port } = await serve({ HOST: '127.0.0.2' });
    expect(line).toContain('listening on http://127.0.0.2:');
    expect(await connects('127.0.0.2', port)).toBe(true);
    expect(await connects('127.0.0.1', port)).toBe(false);
  });
});
