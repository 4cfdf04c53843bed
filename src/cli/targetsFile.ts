import fs from 'node:fs';
import { TargetListSchema, type Target } from '../config';
import { UsageError } from './exitCodes';

/**
 * `--targets file.json`: the same array as DIAGNOSE_TARGETS, validated by the same schema. Every problem becomes one
 * line naming the file, the entry (index and name) and the field, e.g.
 * `--targets t.json: [1] "kv-app" vaultUrl: expected an https URL without credentials, …`.
 */

/** Files this large are no targets list: refuse before parsing. */
const MAX_FILE_BYTES = 1024 * 1024;

function where(raw: unknown, path: readonly PropertyKey[]): string {
  const [index, ...field] = path;
  if (typeof index !== 'number') return 'the file';
  const entry = Array.isArray(raw) ? (raw[index] as { name?: unknown } | undefined) : undefined;
  const name = typeof entry?.name === 'string' && entry.name.length <= 64 ? ` "${entry.name}"` : '';
  return `[${index}]${name}${field.length ? ` ${field.map(String).join('.')}` : ''}`;
}

export function readTargetsFile(file: string): Target[] {
  let text: string;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw new UsageError(`--targets ${file}: not a file`);
    if (stat.size > MAX_FILE_BYTES) throw new UsageError(`--targets ${file}: larger than ${MAX_FILE_BYTES} bytes`);
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as { code?: string }).code;
    throw new UsageError(`--targets ${file}: cannot read the file (${code ?? 'error'})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new UsageError(`--targets ${file}: not JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (!Array.isArray(raw)) {
    throw new UsageError(`--targets ${file}: expected a JSON array of targets, like DIAGNOSE_TARGETS: [{"name":"secrets","kind":"keyVaultSecret",…}]`);
  }
  const parsed = TargetListSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${where(raw, i.path)}: ${i.message}`);
    throw new UsageError(`--targets ${file}: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (and ${problems.length - 3} more)` : ''}`);
  }
  return parsed.data;
}
