import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../../world/paths';

/**
 * The last-resort guard, in a process of its own (it installs process-wide handlers): an exception thrown from an
 * event handler and a rejection nobody awaited are each logged — redacted — and the process goes on working.
 */
describe('the last-resort guard', () => {
  it('logs an uncaught exception and an unhandled rejection, redacted, and the process keeps running', () => {
    const guard = path.join(REPO_ROOT, 'dist', 'src', 'engine', 'guard.js');
    const token = 'eyJhbGciOiJub25lIn0.eyJhdWQiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
    const script = `
      require(${JSON.stringify(guard)}).installLastResortGuard();
      setTimeout(() => { const e = new RangeError('Invalid string length ${token}'); e.code = 'ERR_STRING_TOO_LONG'; throw e; }, 10);
      setTimeout(() => { void Promise.reject(new Error('nobody awaited this')); }, 20);
      setTimeout(() => { console.log('still serving'); }, 200);
      // A probe whose SDK throws from an event handler: the error still ends the probe, as a rejection it can report.
      require(${JSON.stringify(guard)}).withEscapeGuard(() => new Promise(() => setTimeout(() => { throw new Error('thrown by an SDK event handler'); }, 30)))
        .catch((e) => console.log('probe ended with: ' + e.message));
    `;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('still serving');
    expect(run.stdout).toContain('probe ended with: thrown by an SDK event handler');
    expect(run.stderr).toMatch(/last-resort guard: uncaught exception .*RangeError: Invalid string length \[REDACTED\]/);
    expect(run.stderr).toMatch(/last-resort guard: unhandled rejection .*Error: nobody awaited this/);
    expect(run.stderr).not.toContain(token);
  });
});
