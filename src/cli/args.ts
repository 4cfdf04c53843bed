import { parseArgs } from 'node:util';
import { z } from 'zod';
import { MAX_WAIT_SECONDS } from '../engine/wait';
import { FORMATS, type Format } from '../output';
import { UsageError } from './exitCodes';

/**
 * argv → what the user asked for, validated with zod, or a UsageError naming the flag and what it expects. Unknown
 * flags and stray words are refused: a typo must never silently diagnose something else.
 */

export type Command = { command: 'help' } | { command: 'version' } | ({ command: 'diagnose' } & DiagnoseFlags);

export interface DiagnoseFlags {
  /** Path of a JSON targets file (the DIAGNOSE_TARGETS shape); absent: the DIAGNOSE_TARGETS setting. */
  targetsFile?: string;
  /** Names of the targets to run (a subset); absent: all. */
  only?: string[];
  format: Format;
  /** Wait mode: re-probe failing checks for up to this many seconds. */
  waitSeconds?: number;
  failOn: 'fail' | 'warn';
  rawProbe: boolean;
  localChain: boolean;
}

const OPTIONS = {
  targets: { type: 'string' },
  target: { type: 'string', short: 't' },
  format: { type: 'string', short: 'f' },
  wait: { type: 'string' },
  'fail-on': { type: 'string' },
  probe: { type: 'string' },
  'local-chain': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const FlagsSchema = z.object({
  targets: z.string().trim().min(1, 'expected the path of a JSON file').optional(),
  target: z
    .string()
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(NAME, 'expected target names separated by commas')).min(1, 'expected at least one target name'))
    .optional(),
  format: z.enum(FORMATS, { message: `expected one of ${FORMATS.join(', ')}` }).default('text'),
  wait: z
    .string()
    .regex(/^\d{1,6}$/, `expected a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}`)
    .transform(Number)
    .pipe(z.number().max(MAX_WAIT_SECONDS, `expected at most ${MAX_WAIT_SECONDS} seconds; for longer, re-run the command`))
    .optional(),
  'fail-on': z.enum(['fail', 'warn'], { message: 'expected fail or warn' }).default('fail'),
  probe: z.enum(['raw'], { message: 'expected raw' }).optional(),
  'local-chain': z.boolean().default(false),
});

/** Node's parseArgs messages carry advice for another audience; keep the part that names the flag. */
function parseError(err: unknown): UsageError {
  const e = err as { code?: string; message?: string };
  const unknown = /Unknown option '([^']+)'/.exec(e.message ?? '');
  if (unknown) return new UsageError(`unknown option ${unknown[1]}`);
  const missing = /Option '(?:-\w, )?(--?[\w-]+)[^']*' argument missing/.exec(e.message ?? '');
  if (missing) return new UsageError(`option ${missing[1]} needs a value`);
  const ambiguous = /Option '([^']+)' argument is ambiguous/.exec(e.message ?? '');
  if (ambiguous) return new UsageError(`option ${ambiguous[1]}: a value starting with "-" must be written ${ambiguous[1]}=<value>`);
  const positional = /Unexpected argument '([^']+)'/.exec(e.message ?? '');
  if (positional) return new UsageError(`unexpected argument "${positional[1]}"`);
  return new UsageError((e.message ?? 'bad arguments').split('\n')[0]!);
}

/** Parse the arguments after `identity-doctor`. Throws UsageError. */
export function parseCommand(argv: string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
  } catch (err) {
    throw parseError(err);
  }
  const { values, positionals } = parsed;
  if (values.version) return { command: 'version' };
  const [command, ...rest] = positionals;
  if (values.help || command === 'help') return { command: 'help' };
  if (command === undefined) throw new UsageError('missing command: try "identity-doctor diagnose" (or --help)');
  if (command !== 'diagnose') throw new UsageError(`unknown command "${command}": the command is "diagnose"`);
  if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}" (flags start with --)`);
  const flags = FlagsSchema.safeParse(values);
  if (!flags.success) {
    const issue = flags.error.issues[0]!;
    throw new UsageError(`--${String(issue.path[0])}: ${issue.message}`);
  }
  const f = flags.data;
  return {
    command: 'diagnose',
    ...(f.targets ? { targetsFile: f.targets } : {}),
    ...(f.target ? { only: f.target } : {}),
    format: f.format,
    ...(f.wait !== undefined ? { waitSeconds: f.wait } : {}),
    failOn: f['fail-on'],
    rawProbe: f.probe === 'raw',
    localChain: f['local-chain'],
  };
}
