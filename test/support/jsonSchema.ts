/**
 * A small JSON Schema 2020-12 validator for the keywords Identity Doctor's OpenAPI document uses, so tests can hold
 * live responses to the schema *as served* (not to the zod schema it came from). A keyword it does not implement
 * throws instead of being ignored: a document that grows a new keyword fails the test until this learns it.
 */

export interface SchemaError {
  /** JSON pointer into the instance. */
  path: string;
  message: string;
}

type Schema = boolean | Record<string, unknown>;

/** Keywords that only annotate; they never reject an instance (2020-12 treats `format` as an annotation too). */
const ANNOTATIONS = new Set(['$schema', '$id', '$comment', 'title', 'description', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly', 'format']);

const ASSERTIONS = new Set([
  '$ref',
  'type',
  'enum',
  'const',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'items',
  'minItems',
  'maxItems',
  'anyOf',
  'oneOf',
  'allOf',
  'not',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
]);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(expected: string, v: unknown): boolean {
  const actual = typeOf(v);
  return expected === actual || (expected === 'number' && actual === 'integer');
}

const pointer = (path: string, key: string | number) => `${path}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;

/** Resolves a local reference ("#/components/schemas/Verdict") against the root document. */
export function resolveRef(root: unknown, ref: string): Schema {
  if (!ref.startsWith('#/')) throw new Error(`only local references are supported, not ${ref}`);
  let cur: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object' || !(key in cur)) throw new Error(`unresolvable reference ${ref}`);
    cur = (cur as Record<string, unknown>)[key];
  }
  if (typeof cur !== 'boolean' && (cur === null || typeof cur !== 'object')) throw new Error(`reference ${ref} is not a schema`);
  return cur as Schema;
}

/** Every problem with `value` against `schema` ($refs resolved in `root`); an empty list means valid. */
export function validate(schema: Schema, value: unknown, root: unknown = schema, path = ''): SchemaError[] {
  if (schema === true) return [];
  if (schema === false) return [{ path, message: 'no value is allowed here' }];
  const errors: SchemaError[] = [];
  const err = (message: string, at = path) => errors.push({ path: at, message });
  for (const key of Object.keys(schema)) {
    if (!ANNOTATIONS.has(key) && !ASSERTIONS.has(key)) throw new Error(`unsupported JSON Schema keyword "${key}" at ${path || '/'}`);
  }
  const s = schema as Record<string, unknown> & {
    $ref?: string;
    type?: string | string[];
    enum?: unknown[];
    properties?: Record<string, Schema>;
    required?: string[];
    additionalProperties?: Schema;
    propertyNames?: Schema;
    items?: Schema;
    anyOf?: Schema[];
    oneOf?: Schema[];
    allOf?: Schema[];
    not?: Schema;
  };

  if (s.$ref !== undefined) errors.push(...validate(resolveRef(root, s.$ref), value, root, path));
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    if (!types.some((t) => typeMatches(t, value))) return [...errors, { path, message: `expected ${types.join(' or ')}, got ${typeOf(value)}` }];
  }
  if (s.enum !== undefined && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    err(`expected one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${JSON.stringify(value)}`);
  }
  if ('const' in s && JSON.stringify(s.const) !== JSON.stringify(value)) err(`expected ${JSON.stringify(s.const)}`);

  if (typeof value === 'string') {
    if (typeof s.minLength === 'number' && [...value].length < s.minLength) err(`shorter than ${s.minLength}`);
    if (typeof s.maxLength === 'number' && [...value].length > s.maxLength) err(`longer than ${s.maxLength}`);
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value)) err(`does not match ${s.pattern}`);
  }
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) err(`less than ${s.minimum}`);
    if (typeof s.maximum === 'number' && value > s.maximum) err(`greater than ${s.maximum}`);
    if (typeof s.exclusiveMinimum === 'number' && value <= s.exclusiveMinimum) err(`not greater than ${s.exclusiveMinimum}`);
    if (typeof s.exclusiveMaximum === 'number' && value >= s.exclusiveMaximum) err(`not less than ${s.exclusiveMaximum}`);
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === 'number' && value.length < s.minItems) err(`fewer than ${s.minItems} items`);
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) err(`more than ${s.maxItems} items`);
    if (s.items !== undefined) value.forEach((v, i) => errors.push(...validate(s.items!, v, root, pointer(path, i))));
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const name of s.required ?? []) if (!(name in obj)) err(`missing required property "${name}"`);
    const props = s.properties ?? {};
    for (const [name, v] of Object.entries(obj)) {
      if (s.propertyNames !== undefined) {
        for (const e of validate(s.propertyNames, name, root, pointer(path, name))) err(`property name: ${e.message}`, e.path);
      }
      if (name in props) errors.push(...validate(props[name]!, v, root, pointer(path, name)));
      else if (s.additionalProperties === false) err(`property "${name}" is not allowed`, pointer(path, name));
      else if (s.additionalProperties !== undefined) errors.push(...validate(s.additionalProperties, v, root, pointer(path, name)));
    }
  }

  if (s.allOf) for (const sub of s.allOf) errors.push(...validate(sub, value, root, path));
  if (s.anyOf && !s.anyOf.some((sub) => validate(sub, value, root, path).length === 0)) err('matches none of anyOf');
  if (s.oneOf) {
    const matching = s.oneOf.filter((sub) => validate(sub, value, root, path).length === 0).length;
    if (matching !== 1) err(`matches ${matching} of oneOf (exactly 1 required)`);
  }
  if (s.not !== undefined && validate(s.not, value, root, path).length === 0) err('matches a schema it must not match');
  return errors;
}
