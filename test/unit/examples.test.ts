import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { DiagnoseQuerySchema } from '../../src/http/diagnoseRequest';
import { readBicep } from '../support/bicep';

/**
 * The pipelines and the action under examples/ are what users copy: they must parse, declare what they need, take
 * the URL from the deployment's outputs and the key from a secret, gate on the status of the one request whose JUnit
 * they publish, and ask only for query parameters the service accepts. (test/integration/examples.test.ts runs their
 * gate scripts against the service.)
 */
const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const load = (file: string) => parse(read(file), { strict: true, uniqueKeys: true }) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const OUTPUTS = [...readBicep(path.join(ROOT, 'infra/main.bicep')).outputs.keys()];

/** The query string of every /api/diagnose call in a script: "$DIAGNOSE_URL?…" or curl --data-urlencode "name=…". */
function queryParams(script: string): Record<string, string>[] {
  const inUrl = [...script.matchAll(/\$DIAGNOSE_URL\?([^"'\s]+)/g)].map((m) => Object.fromEntries(new URLSearchParams(m[1]!)));
  const encoded = [...script.matchAll(/--data-urlencode "(\w+)=/g)].map((m) => m[1]!);
  return encoded.length ? [...inUrl, Object.fromEntries(encoded.map((n) => [n, { failOn: 'warn', format: 'text', waitSeconds: '1', target: 'a' }[n] ?? 'x']))] : inUrl;
}

/** The gate: one curl that saves the body (-o FILE) and prints the status (-w '%{http_code}'). */
function gateOf(script: string): { file: string; query: Record<string, string> } {
  expect(script).toMatch(/-w '%\{http_code\}'/);
  expect(script).toMatch(/-H "x-functions-key: \$FUNCTION_KEY"/);
  expect(script).toMatch(/--max-time 2[4-9]\d/); // longer than the 200 s wait
  const file = /-o "?([^"\s]+)"?/.exec(script)![1]!;
  const [query] = queryParams(script);
  expect(DiagnoseQuerySchema.safeParse(query).success).toBe(true);
  expect(query).toMatchObject({ waitSeconds: '200', format: 'junit', failOn: 'warn' });
  return { file, query: query! };
}

describe.each(['examples/github-actions/deploy-and-gate.yml', 'examples/azure-pipelines/deploy-and-gate.yml', 'examples/action/action.yml'])('%s', (file) => {
  const text = read(file);

  it('never builds the URL from the app name (apps with unique default host names have no <name>.azurewebsites.net)', () => {
    expect(text).not.toMatch(/azurewebsites\.net/);
  });

  it('reads only outputs the deployment has', () => {
    const read = [...text.matchAll(/(?:get-value |properties\.outputs\.)([A-Z_]+)/g)].map((m) => m[1]!);
    expect(read.filter((n) => !OUTPUTS.includes(n))).toEqual([]);
  });
});

describe('the GitHub Actions workflow', () => {
  const wf = load('examples/github-actions/deploy-and-gate.yml');
  const steps = wf.jobs['deploy-and-gate'].steps as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any

  it('is a workflow: a trigger, jobs with runs-on and steps, every action pinned to a version', () => {
    expect(wf.on).toBeDefined();
    for (const job of Object.values(wf.jobs) as { 'runs-on': string; steps: unknown[] }[]) {
      expect(job['runs-on']).toBeTruthy();
      expect(job.steps.length).toBeGreaterThan(0);
    }
    for (const s of steps) expect(s.uses === undefined || /^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@v?\d/.test(s.uses)).toBe(true);
  });

  it('declares the permissions its steps need, and no more', () => {
    expect(wf.permissions).toEqual({ contents: 'read', 'id-token': 'write', checks: 'write' });
    expect(steps.some((s) => String(s.uses).startsWith('mikepenz/action-junit-report'))).toBe(true); // why checks: write
    expect(steps.some((s) => String(s.uses).startsWith('azure/login'))).toBe(true); // why id-token: write
  });

  it('gates on the status of the one request whose JUnit it publishes, even when the gate failed', () => {
    const gate = steps.find((s) => /http_code/.test(s.run ?? ''))!;
    const { file } = gateOf(gate.run);
    expect(gate.env.FUNCTION_KEY).toBe('${{ secrets.IDENTITY_DOCTOR_KEY }}');
    expect(gate.env.DIAGNOSE_URL).toMatch(/^\$\{\{ steps\.deploy\.outputs\.diagnose-url \}\}$/);
    const publish = steps.find((s) => String(s.uses).startsWith('mikepenz/action-junit-report'))!;
    expect(publish.if).toBe('always()');
    expect(publish.with.report_paths).toBe(file);
    expect(steps.indexOf(publish)).toBeGreaterThan(steps.indexOf(gate));
    expect(steps.filter((s) => /api\/diagnose|DIAGNOSE_URL\?/.test(s.run ?? ''))).toEqual([gate]);
  });

  it('takes the URL from the deployment outputs and never puts a secret into a script', () => {
    const deploy = steps.find((s) => s.id === 'deploy')!;
    expect(deploy.run).toMatch(/azd env get-value DIAGNOSE_URL/);
    for (const s of steps) expect(String(s.run ?? '')).not.toMatch(/\$\{\{\s*secrets\./);
  });
});

describe('the Azure Pipelines YAML', () => {
  const pl = load('examples/azure-pipelines/deploy-and-gate.yml');
  const steps = pl.steps as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any

  it('is a pipeline: a trigger, a pool and steps, each a task, script or bash', () => {
    expect(pl.trigger).toBeDefined();
    expect(pl.pool.vmImage).toBeTruthy();
    for (const s of steps) expect(['task', 'script', 'bash'].filter((k) => k in s)).toHaveLength(1);
  });

  it('gates on the status of the one request whose JUnit it publishes, even when the gate failed', () => {
    const gate = steps.find((s) => /http_code/.test(s.bash ?? ''))!;
    const { file } = gateOf(gate.bash);
    expect(gate.env.FUNCTION_KEY).toBe('$(identityDoctorKey)');
    expect(gate.env.DIAGNOSE_URL).toBe('$(deploy.diagnoseUrl)');
    const publish = steps.find((s) => s.task === 'PublishTestResults@2')!;
    expect(publish.condition).toBe('always()');
    expect(publish.inputs).toMatchObject({ testResultsFormat: 'JUnit', testResultsFiles: file });
    expect(steps.indexOf(publish)).toBeGreaterThan(steps.indexOf(gate));
  });

  it('sets the URL from the deployment outputs, and hands secrets to scripts only through env', () => {
    const deploy = steps.find((s) => s.name === 'deploy')!;
    expect(deploy.inputs.inlineScript).toMatch(/properties\.outputs\.DIAGNOSE_URL\.value/);
    expect(deploy.inputs.inlineScript).toMatch(/##vso\[task\.setvariable variable=diagnoseUrl;isOutput=true\]/);
    for (const s of steps) expect(JSON.stringify([s.bash, s.script, s.inputs?.inlineScript])).not.toMatch(/\$\(identityDoctorKey\)/);
  });
});

describe('the composite action', () => {
  const action = load('examples/action/action.yml');

  it('is a composite action with the inputs a caller needs', () => {
    expect(action.name).toBeTruthy();
    expect(action.description).toBeTruthy();
    expect(action.runs.using).toBe('composite');
    expect(action.inputs['diagnose-url'].required).toBe(true);
    expect(action.inputs['function-key'].required).toBe(true);
    expect(action.inputs['fail-on'].default).toBe('fail');
    expect(action.inputs['wait-seconds'].default).toBe('200');
    for (const [name, output] of Object.entries(action.outputs as Record<string, { value: string }>)) expect(output.value).toBe(`\${{ steps.gate.outputs.${name} }}`);
  });

  it('passes inputs to its script only through env (no input can inject a command)', () => {
    for (const step of action.runs.steps as { shell: string; run: string; env: Record<string, string> }[]) {
      expect(step.shell).toBe('bash');
      expect(step.run).not.toMatch(/\$\{\{/);
      expect(step.env.FUNCTION_KEY).toBe('${{ inputs.function-key }}');
    }
  });

  it('asks for the text verdict with parameters the service accepts, masking the key', () => {
    const run = (action.runs.steps as { run: string }[])[0]!.run;
    expect(run).toMatch(/::add-mask::\$FUNCTION_KEY/);
    expect(run).toMatch(/--data-urlencode "format=text"/);
    for (const q of queryParams(run)) expect(Object.keys(q).filter((k) => !(k in DiagnoseQuerySchema.shape))).toEqual([]);
  });
});
