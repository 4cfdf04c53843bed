import { parseCommand } from '../../../src/cli/args';
import { UsageError } from '../../../src/cli/exitCodes';
import { MAX_WAIT_SECONDS } from '../../../src/engine/wait';

function usageError(argv: string[]): string {
  try {
    parseCommand(argv);
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  throw new Error(`expected a usage error for ${argv.join(' ')}`);
}

describe('identity-doctor arguments', () => {
  it('defaults to the text format, failing only on fail, all targets from the settings', () => {
    expect(parseCommand(['diagnose'])).toEqual({ command: 'diagnose', format: 'text', failOn: 'fail', rawProbe: false, localChain: false });
  });

  it('reads every option, in long and short form', () => {
    expect(
      parseCommand(['diagnose', '--targets', 't.json', '-t', 'a, b', '-f', 'junit', '--wait', '120', '--fail-on', 'warn', '--probe', 'raw', '--local-chain']),
    ).toEqual({ command: 'diagnose', targetsFile: 't.json', only: ['a', 'b'], format: 'junit', waitSeconds: 120, failOn: 'warn', rawProbe: true, localChain: true });
    expect(parseCommand(['diagnose', '--format=json'])).toMatchObject({ format: 'json' });
  });

  it('answers help and version however they are asked for', () => {
    for (const argv of [['--help'], ['-h'], ['help'], ['diagnose', '--help']]) expect(parseCommand(argv)).toEqual({ command: 'help' });
    expect(parseCommand(['--version'])).toEqual({ command: 'version' });
  });

  it.each<[string[], string]>([
    [[], 'missing command'],
    [['diagnoze'], 'unknown command "diagnoze"'],
    [['diagnose', 'extra'], 'unexpected argument "extra"'],
    [['diagnose', '--target'], 'option --target needs a value'],
    [['diagnose', '--formt', 'json'], 'unknown option --formt'],
    [['diagnose', '-x'], 'unknown option -x'],
    [['diagnose', '--format', 'xml'], '--format: expected one of json, text, junit, html'],
    [['diagnose', '--wait', '-1'], 'option --wait: a value starting with "-" must be written --wait=<value>'],
    [['diagnose', '--wait=-1'], '--wait: expected a whole number of seconds'],
    [['diagnose', '--wait', '2.5'], '--wait: expected a whole number of seconds'],
    [['diagnose', '--wait', String(MAX_WAIT_SECONDS + 1)], `--wait: expected at most ${MAX_WAIT_SECONDS} seconds`],
    [['diagnose', '--fail-on', 'never'], '--fail-on: expected fail or warn'],
    [['diagnose', '--probe', 'deep'], '--probe: expected raw'],
    [['diagnose', '--target', 'a,../b'], '--target: expected target names separated by commas'],
    [['diagnose', '--target', ' , '], '--target: expected at least one target name'],
    [['diagnose', '--targets', ' '], '--targets: expected the path of a JSON file'],
  ])('refuses %j: %s', (argv, message) => {
    const m = usageError(argv);
    expect(m).toContain(message);
    expect(m).not.toContain('\n');
  });
});
