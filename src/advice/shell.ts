/**
 * Quoting for the bash lines a fix is made of. Every value that reaches a fix command goes through one of these:
 * a literal becomes one single-quoted word (nothing inside single quotes is special to bash, not even `!` history
 * expansion in an interactive shell); a value that should be an id but is not well formed becomes a `<placeholder>`
 * (a redirection to bash, so a pasted line stops with a syntax error instead of running anything); our own
 * `$(az … show …)` look-ups are built from quoted words and wrapped in double quotes, so they still run and their
 * answer stays one word. Comments are kept on one line, so a value cannot end the comment and start a command.
 */

const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * One bash word holding exactly `value`. Plain values (ids, names, URLs without specials) stay readable. A value with
 * control characters (a line break above all) cannot be pasted as one line: it becomes a placeholder.
 */
export function sh(value: string): string {
  if (value !== '' && PLAIN.test(value)) return value;
  // Spaces only (a role name): double quotes read better and nothing in such a value is special inside them.
  if (/^[A-Za-z0-9_@%+=:,./ -]+$/.test(value)) return `"${value}"`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\u2028\u2029]/.test(value)) return '<value-with-control-characters>';
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A command substitution of ours (its parts already quoted), kept as one word. */
export function lookup(command: string): string {
  return `"$(${command})"`;
}

/** `# text` on one line: control characters (newlines above all) become spaces. */
export function comment(text: string): string {
  return `# ${oneLine(text)}`;
}

/** Text for inside a comment or a `--query` string: one line, no control characters. */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ');
}

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * An ARM id we are willing to paste: `/subscriptions/<id>` and then segments of the characters ARM names use
 * (letters, digits, `._-()`, and `$` for `$root`-style names is NOT among them). Anything else is shown as a
 * placeholder — the evidence still carries the value as the service or the configuration gave it.
 */
const ARM_ID = /^\/subscriptions\/[0-9A-Za-z-]+(\/[A-Za-z0-9._()-]+)*$/;
const MG_ID = /^\/providers\/Microsoft\.Management\/managementGroups\/[A-Za-z0-9._()-]+$/i;

export function wellFormedArmId(id: string | undefined): id is string {
  return !!id && (ARM_ID.test(id) || MG_ID.test(id));
}

/** `sh(value)` when `ok(value)`, else `<name>`. */
export function idOr(value: string | undefined, ok: (v: string) => boolean, name: string): string {
  return value !== undefined && ok(value) ? sh(value) : `<${name}>`;
}
