import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import ts from 'typescript';
import { ROUTES } from '../../src/routes';
import { SETTING_NAMES } from '../../src/config';

/**
 * No container engine runs here, so the image is held to its contract by reading the Dockerfile as Docker would:
 * stages, base images, user, entry point, what is copied into the final stage and from where. The build inputs are
 * checked too: the image's tsconfig compiles src alone, and src imports nothing `npm ci --omit=dev` leaves out.
 */

const ROOT = path.resolve(__dirname, '../..');

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  steps: Instruction[];
}

/** Dockerfile → stages of instructions (comments dropped, `\` continuations joined). */
function readDockerfile(file: string): Stage[] {
  const logical = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, op, args] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    if (!op || args === undefined) throw new Error(`unreadable Dockerfile line: ${line}`);
    if (op.toUpperCase() === 'FROM') {
      const [, from, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ from: from!, ...(name ? { name } : {}), steps: [] });
    } else {
      if (!stages.length) throw new Error(`${op} before FROM`);
      stages.at(-1)!.steps.push({ op: op.toUpperCase(), args: args.replace(/\s+/g, ' ') });
    }
  }
  return stages;
}

const stages = readDockerfile(path.join(ROOT, 'Dockerfile'));
const final = stages.at(-1)!;
const stageNamed = (name: string) => stages.find((s) => s.name === name);
const steps = (stage: Stage, op: string) => stage.steps.filter((s) => s.op === op);
const execForm = (args: string) => JSON.parse(args) as string[];
const env = Object.fromEntries(
  steps(final, 'ENV').flatMap((s) => [...s.args.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!])),
);

describe('the container image (Dockerfile)', () => {
  it('builds in stages and runs on a Node 22 base', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s.from).toMatch(/^(node:22(-[\w.-]+)?|gcr\.io\/distroless\/nodejs22-[\w.-]+(:[\w.-]+)?)$/);
  });

  it('runs as a non-root user', () => {
    const users = steps(final, 'USER').map((s) => s.args);
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!.split(':')[0]!;
    expect(['root', '0']).not.toContain(user);
  });

  it('starts the same HTTP service as `npm run serve`: node dist/src/server.js, built from src/server.ts', () => {
    const [entrypoint] = steps(final, 'ENTRYPOINT').map((s) => execForm(s.args));
    const [cmd] = steps(final, 'CMD').map((s) => execForm(s.args));
    const argv = [...(entrypoint ?? []), ...(cmd ?? [])];
    expect(path.basename(argv[0]!)).toBe('node');
    expect(argv.slice(1)).toEqual(['dist/src/server.js']);
    expect(fs.readFileSync(path.join(ROOT, 'src/server.ts'), 'utf8')).toContain('require.main === module');
    // The CLI the docs tell to run in the image exists too.
    expect(fs.existsSync(path.join(ROOT, 'src/cli/main.ts'))).toBe(true);
  });

  it('copies into the final stage only the compiled src, production node_modules and package.json', () => {
    const copies = steps(final, 'COPY').map((s) => s.args);
    expect(copies).toEqual(['--from=deps /app/node_modules ./node_modules', '--from=build /app/dist/src ./dist/src', 'package.json ./']);
    expect(steps(final, 'ADD')).toEqual([]);
    expect(steps(final, 'RUN')).toEqual([]);
  });

  it('takes node_modules from a stage that installs without dev dependencies or install scripts', () => {
    const deps = stageNamed('deps')!;
    const runs = steps(deps, 'RUN').map((s) => s.args);
    expect(runs).toEqual([expect.stringMatching(/^npm ci --omit=dev\b.*--ignore-scripts/)]);
    expect(steps(deps, 'COPY').map((s) => s.args)).toEqual(['package.json package-lock.json ./']);
  });

  it('compiles with tsconfig.image.json, which builds src alone into dist/src', () => {
    const build = stageNamed('build')!;
    expect(steps(build, 'RUN').map((s) => s.args)).toContain('npx tsc -p tsconfig.image.json');
    const configFile = path.join(ROOT, 'tsconfig.image.json');
    const parsed = ts.getParsedCommandLineOfConfigFile(configFile, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(String(d.messageText)); } })!;
    expect(parsed.errors).toEqual([]);
    expect(path.resolve(parsed.options.outDir!)).toBe(path.join(ROOT, 'dist'));
    expect(path.resolve(parsed.options.rootDir!)).toBe(ROOT);
    const program = ts.createProgram(parsed.fileNames, { ...parsed.options, noEmit: true });
    // Our own sources: everything but the libraries (node_modules may be a link elsewhere).
    const ours = program
      .getSourceFiles()
      .filter((f) => !program.isSourceFileDefaultLibrary(f) && !program.isSourceFileFromExternalLibrary(f) && !f.fileName.split('/').includes('node_modules'))
      .map((f) => path.relative(ROOT, f.fileName));
    expect(ours.filter((f) => !f.startsWith(`src${path.sep}`))).toEqual([]);
    expect(ours).toContain(path.join('src', 'server.ts'));
    expect(ours).toContain(path.join('src', 'cli', 'main.ts'));
  });

  it('needs nothing at run time that --omit=dev leaves out: src imports only dependencies and node built-ins', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const files = fs.readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const missing: string[] = [];
    const seen = new Set<string>();
    for (const f of files) {
      const text = fs.readFileSync(path.join(ROOT, 'src', f), 'utf8');
      for (const { fileName: spec } of ts.preProcessFile(text, true, true).importedFiles) {
        if (spec.startsWith('.')) continue;
        seen.add(spec);
        const pkgName = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (spec.startsWith('node:') || builtinModules.includes(pkgName) || pkgName in pkg.dependencies) continue;
        missing.push(`${f}: ${spec}`);
      }
    }
    expect(seen).toContain('@azure/identity');
    expect(missing).toEqual([]);
  });

  it('checks its health on the anonymous liveness route with node itself (no curl in a distroless image)', () => {
    const [healthcheck] = steps(final, 'HEALTHCHECK').map((s) => s.args);
    expect(healthcheck).toBeDefined();
    const route = /\/api\/(health\/live)\b/.exec(healthcheck!)?.[1];
    expect(ROUTES.find((r) => r.route === route)?.authLevel).toBe('anonymous');
    const cmd = execForm(healthcheck!.replace(/^.*?CMD\s+/, ''));
    expect(path.basename(cmd[0]!)).toBe('node');
  });

  it('listens on all interfaces on the port it exposes, so it starts only with a key (the server refuses otherwise)', () => {
    expect(env.HOST).toBe('0.0.0.0');
    expect(steps(final, 'EXPOSE').map((s) => s.args)).toEqual([env.PORT]);
    for (const name of Object.keys(env).filter((k) => k !== 'NODE_ENV')) expect(SETTING_NAMES).toContain(name);
    // A key is a secret: given at run time, never baked into the image.
    expect(Object.keys(env).filter((k) => /KEY/.test(k))).toEqual([]);
    expect(stages.flatMap((s) => steps(s, 'ARG'))).toEqual([]);
  });
});

describe('the build context (.dockerignore)', () => {
  const lines = fs
    .readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('starts from nothing and lets in exactly what the stages copy from the context', () => {
    expect(lines[0]).toBe('*');
    const allowed = lines.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    const fromContext = stages
      .flatMap((s) => steps(s, 'COPY'))
      .filter((c) => !c.args.startsWith('--from='))
      .flatMap((c) => c.args.split(' ').slice(0, -1))
      .map((src) => src.replace(/\/$/, ''));
    expect([...new Set(fromContext)].sort()).toEqual([...allowed].sort());
    for (const f of allowed) expect(fs.existsSync(path.join(ROOT, f))).toBe(true);
  });
});
