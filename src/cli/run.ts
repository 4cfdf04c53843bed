import { ConfigError, loadSettings, type Settings, type Target } from '../config';
import { diagnose } from '../engine/diagnose';
import { diagnoseWithWait } from '../engine/wait';
import { redactDeep } from '../http/redact';
import { renderHtml } from '../output/html';
import { renderJunit } from '../output/junit';
import { renderText } from '../output/text';
import type { Format } from '../output';
import type { Verdict } from '../verdict';
import type { DiagnoseFlags } from './args';
import { EXIT, UsageError, type ExitCode } from './exitCodes';
import { readTargetsFile } from './targetsFile';

/**
 * `identity-doctor diagnose`: the same settings, engine and formats as the HTTP service, in-process. Exit code from
 * the verdict: 0 no check failed, 1 a check failed (or warned, with --fail-on warn).
 */

export function render(verdict: Verdict, format: Format): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(verdict, null, 2)}\n`;
    case 'text':
      return renderText(verdict).replace(/\n?$/, '\n');
    case 'junit':
      return renderJunit(verdict).replace(/\n?$/, '\n');
    case 'html':
      return renderHtml(verdict);
  }
}

export function exitCodeOf(verdict: Verdict, failOn: DiagnoseFlags['failOn']): ExitCode {
  if (verdict.status === 'fail') return EXIT.failed;
  if (verdict.status === 'warn' && failOn === 'warn') return EXIT.failed;
  return EXIT.ok;
}

/** A bad setting as one line: every setting named, what it expects. */
function settingsError(err: ConfigError): UsageError {
  return new UsageError(`bad setting ${err.problems.map((p) => `${p.setting}: ${p.expected}`).join('; ')}`);
}

function selectTargets(all: Target[], flags: DiagnoseFlags, from: string): Target[] {
  if (!all.length) {
    throw new UsageError(`no targets: ${from} is empty — pass --targets <file> or set DIAGNOSE_TARGETS (see --help)`);
  }
  if (!flags.only) return all;
  const known = new Set(all.map((t) => t.name));
  const unknown = flags.only.filter((n) => !known.has(n));
  if (unknown.length) {
    throw new UsageError(`--target: no target named ${unknown.map((n) => `"${n}"`).join(', ')} in ${from} (there: ${[...known].join(', ')})`);
  }
  const wanted = new Set(flags.only);
  return all.filter((t) => wanted.has(t.name));
}

export interface DiagnoseRun {
  verdict: Verdict;
  output: string;
  exitCode: ExitCode;
}

/** Runs one diagnose. Throws UsageError before anything is probed when the command cannot run as asked. */
export async function runDiagnose(
  flags: DiagnoseFlags,
  options: { settings?: () => Settings; onWait?: (seconds: number) => void } = {},
): Promise<DiagnoseRun> {
  let settings: Settings;
  try {
    settings = (options.settings ?? loadSettings)();
  } catch (err) {
    if (err instanceof ConfigError) throw settingsError(err);
    throw err;
  }
  if (flags.localChain) settings = { ...settings, localChain: true };
  const targets = flags.targetsFile
    ? selectTargets(readTargetsFile(flags.targetsFile), flags, flags.targetsFile)
    : selectTargets(settings.targets, flags, 'DIAGNOSE_TARGETS');
  const engineOptions = { rawProbe: flags.rawProbe };
  let verdict: Verdict;
  if (flags.waitSeconds) {
    options.onWait?.(flags.waitSeconds);
    verdict = await diagnoseWithWait(settings, targets, flags.waitSeconds, engineOptions);
  } else {
    verdict = await diagnose(settings, targets, engineOptions);
  }
  verdict = redactDeep(verdict);
  return { verdict, output: render(verdict, flags.format), exitCode: exitCodeOf(verdict, flags.failOn) };
}
