import fs from 'node:fs';

/**
 * The Dockerfile read as Docker reads it — stages of instructions, comments dropped, `\` continuations joined — for
 * the checks that hold the image to its contract (test/unit/image.test.ts) and for the bench, which starts what the
 * image's command starts (bench/p4ColdStart.ts). No container engine runs on the machines this is checked on.
 */

export interface Instruction {
  op: string;
  args: string;
}

export interface Stage {
  from: string;
  name?: string;
  steps: Instruction[];
}

export function readDockerfile(file: string): Stage[] {
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

export const steps = (stage: Stage, op: string): Instruction[] => stage.steps.filter((s) => s.op === op);

/** An instruction in exec form (`["node", "x.js"]`). */
export const execForm = (args: string): string[] => JSON.parse(args) as string[];

/** What the image's last stage runs: ENTRYPOINT then CMD, and its ENV. */
export function imageCommand(stages: Stage[]): { argv: string[]; env: Record<string, string> } {
  const final = stages.at(-1)!;
  const [entrypoint] = steps(final, 'ENTRYPOINT').map((s) => execForm(s.args));
  const [cmd] = steps(final, 'CMD').map((s) => execForm(s.args));
  const env = Object.fromEntries(steps(final, 'ENV').flatMap((s) => [...s.args.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!])));
  return { argv: [...(entrypoint ?? []), ...(cmd ?? [])], env };
}
