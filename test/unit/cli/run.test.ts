import { exitCodeOf, render, runDiagnose } from '../../../src/cli/run';
import { EXIT, UsageError } from '../../../src/cli/exitCodes';
import { loadSettings } from '../../../src/config';
import { VerdictSchema } from '../../../src/verdict';
import { authorized, notFound, roleMissing, verdictOf } from '../output/verdicts';

const flags = { command: 'diagnose' as const, format: 'json' as const, failOn: 'fail' as const, rawProbe: false, localChain: false };

describe('the exit code a verdict gives', () => {
  it.each([
    ['pass', [authorized()], 'fail', EXIT.ok],
    ['warn', [authorized(), notFound()], 'fail', EXIT.ok],
    ['warn, strict', [authorized(), notFound()], 'warn', EXIT.failed],
    ['fail', [authorized(), roleMissing()], 'fail', EXIT.failed],
    ['fail, strict', [roleMissing()], 'warn', EXIT.failed],
  ] as const)('%s → %i', (_label, checks, failOn, code) => {
    expect(exitCodeOf(verdictOf([...checks]), failOn)).toBe(code);
  });
});

describe('rendering', () => {
  it('prints the verdict schema as JSON, ending in a newline', () => {
    const v = verdictOf([authorized()]);
    const out = render(v, 'json');
    expect(out.endsWith('\n')).toBe(true);
    expect(VerdictSchema.parse(JSON.parse(out))).toEqual(v);
  });
});

describe('before anything is probed', () => {
  const refusal = async (run: Promise<unknown>) => {
    const err = await run.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    return (err as UsageError).message;
  };

  it('turns a bad setting into one usage line naming it', async () => {
    const m = await refusal(runDiagnose(flags, { settings: () => loadSettings({ AZURE_CLOUD: 'Mars' }) }));
    expect(m).toMatch(/^bad setting AZURE_CLOUD: expected one of /);
  });

  it('refuses to run without targets, and names an unknown --target', async () => {
    expect(await refusal(runDiagnose(flags, { settings: () => loadSettings({}) }))).toContain('no targets: DIAGNOSE_TARGETS is empty');
    const settings = () => loadSettings({ DIAGNOSE_TARGETS: JSON.stringify([{ name: 'arm', kind: 'armResource', resourceId: '/subscriptions/s1' }]) });
    expect(await refusal(runDiagnose({ ...flags, only: ['arm', 'kv'] }, { settings }))).toBe('--target: no target named "kv" in DIAGNOSE_TARGETS (there: arm)');
  });
});
