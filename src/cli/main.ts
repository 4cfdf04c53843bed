#!/usr/bin/env node
import '../compileCache';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseCommand } from './args';
import { EXIT, UsageError, type ExitCode } from './exitCodes';
import { HELP } from './help';
import { runDiagnose } from './run';

/**
 * The `identity-doctor` command (package.json `bin`). Stdout carries the report only, so `> report.xml` works;
 * progress and errors go to stderr. See ./exitCodes.ts for the exit codes.
 */

function version(): string {
  // dist/src/cli/main.js → the package root is three levels up, as in the source tree (src/cli → root is two).
  for (const up of ['../../..', '../..']) {
    try {
      return (JSON.parse(readFileSync(path.join(__dirname, up, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      // try the next layout
    }
  }
  return 'unknown';
}

/** Write, then exit once stdout has drained: a piped report must not be cut short by process.exit. */
function finish(out: string, code: ExitCode): void {
  process.stdout.write(out, () => process.exit(code));
}

async function main(argv: string[]): Promise<void> {
  let command;
  try {
    command = parseCommand(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`identity-doctor: ${err.message} (see identity-doctor --help)\n`);
    return process.exit(EXIT.usage);
  }
  if (command.command === 'help') return finish(HELP, EXIT.ok);
  if (command.command === 'version') return finish(`${version()}\n`, EXIT.ok);
  try {
    const run = await runDiagnose(command, {
      onWait: (s) => process.stderr.write(`identity-doctor: waiting up to ${s} s for failing checks that can still heal…\n`),
    });
    finish(run.output, run.exitCode);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`identity-doctor: ${err.message}\n`);
    process.exit(EXIT.usage);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  // A bug of ours, not a verdict: say what broke without a stack full of SDK internals.
  process.stderr.write(`identity-doctor: internal error (${err instanceof Error ? `${err.name}: ${err.message}` : String(err)})\n`);
  process.exit(EXIT.internal);
});
