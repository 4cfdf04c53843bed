/**
 * Docs write `<vault>`, `<sub>`, `<name>` where the reader puts their own value. To hold an example to a schema, each
 * placeholder becomes a value of the shape it stands for: a GUID for a subscription or tenant, else a lowercase name
 * that fits every name rule (vault, account, container, secret).
 */
export function fillPlaceholders(text: string): string {
  return text.replace(/<([a-z-]+)>/g, (_m, what: string) => (/^(sub|subscription|tenant)/.test(what) ? '00000000-0000-0000-0000-000000000000' : 'placeholder'));
}
