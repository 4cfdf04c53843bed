import { AsyncLocalStorage } from 'node:async_hooks';
import { redactText } from '../http/redact';
import { sdkErrorText } from './identity';

/**
 * The last resort: nothing an answer does may end the process. A probe's own failure is already a check (runTarget
 * turns anything it throws into `diagnostic_error`); this catches what escapes every await — an exception thrown
 * from an SDK's event handler, a rejection nobody awaited — and logs it, redacted, instead of letting Node exit.
 */

/** One log line for an error that escaped: its name and first line, redacted, never a stack or a body. */
export function escapedErrorLine(where: string, err: unknown): string {
  return `last-resort guard: ${where}: ${redactText(sdkErrorText(err))}`;
}

/**
 * The work an escaped error belongs to. Node runs the process handlers in the async context of the callback that
 * threw, so an error thrown from an SDK's event handler during a probe still finds the probe that started it.
 */
const owner = new AsyncLocalStorage<(err: unknown) => void>();

/**
 * Run `work` so that an error escaping it — thrown from an event handler it set up, or a rejection it left unawaited —
 * ends it as a rejection (once the guard is installed), instead of leaving it waiting for its deadline.
 */
export function withEscapeGuard<T>(work: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    owner.run(reject, () => {
      work().then(resolve, reject);
    });
  });
}

let installed = false;

/** Install the process-wide handlers once (the Functions entry point and the local server call this at start-up). */
export function installLastResortGuard(log: (line: string) => void = (line) => console.error(line)): void {
  if (installed) return;
  installed = true;
  process.on('uncaughtException', (err) => {
    log(escapedErrorLine('uncaught exception (the process keeps serving)', err));
    owner.getStore()?.(err);
  });
  process.on('unhandledRejection', (reason) => {
    log(escapedErrorLine('unhandled rejection (the process keeps serving)', reason));
    owner.getStore()?.(reason);
  });
}
