/**
 * The CLI's exit codes: part of the public contract, since pipelines and Kubernetes Jobs branch on them.
 * - 0: no check failed (pass or warn; with `--fail-on warn`, every check passed);
 * - 1: at least one check failed (or warned, with `--fail-on warn`);
 * - 2: usage error — unknown flag, bad value, unreadable or invalid targets file, bad setting. Nothing was diagnosed;
 * - 3: internal error — a bug in identity-doctor itself, never a verdict about a dependency.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, internal: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A usage error: one line for stderr, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
