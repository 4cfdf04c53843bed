import { resolveRef, validate } from '../support/jsonSchema';

/** The validator the OpenAPI tests rely on: it must reject what the schema forbids, not only accept what it allows. */
const root = {
  components: {
    schemas: {
      Check: {
        type: 'object',
        properties: {
          target: { type: 'string', minLength: 1 },
          status: { type: 'string', enum: ['pass', 'warn', 'fail'] },
          httpStatus: { type: 'integer' },
          durationMs: { type: 'number' },
          fix: { type: 'array', items: { type: 'string' } },
          settings: { type: 'object', propertyNames: { type: 'string', pattern: '^[A-Z_]+$' }, additionalProperties: { type: 'string' } },
        },
        required: ['target', 'status'],
        additionalProperties: false,
      },
      Verdict: {
        type: 'object',
        properties: { checks: { type: 'array', items: { $ref: '#/components/schemas/Check' } } },
        required: ['checks'],
      },
    },
  },
};
const verdict = resolveRef(root, '#/components/schemas/Verdict');
const messages = (value: unknown, schema = verdict) => validate(schema, value, root).map((e) => `${e.path} ${e.message}`);

describe('validate', () => {
  it('accepts a value that fits, through $ref, items and additionalProperties schemas', () => {
    expect(messages({ checks: [{ target: 'kv', status: 'pass', httpStatus: 200, durationMs: 1.5, fix: [], settings: { A_B: 'x' } }] })).toEqual([]);
  });

  it('names the path and the rule of every violation', () => {
    expect(messages({ checks: [{ target: '', status: 'maybe', extra: 1 }, { status: 'pass' }] })).toEqual([
      '/checks/0/target shorter than 1',
      '/checks/0/status expected one of "pass", "warn", "fail", got "maybe"',
      '/checks/0/extra property "extra" is not allowed',
      '/checks/1 missing required property "target"',
    ]);
  });

  it('tells integers from numbers, and checks property names and values of a record', () => {
    expect(messages({ checks: [{ target: 'a', status: 'fail', httpStatus: 403.5, durationMs: 3, settings: { lower: 'x', OK: 1 } }] })).toEqual([
      '/checks/0/httpStatus expected integer, got number',
      '/checks/0/settings/lower property name: does not match ^[A-Z_]+$',
      '/checks/0/settings/OK expected string, got integer',
    ]);
  });

  it('rejects the wrong type at the top without looking further', () => {
    expect(messages([])).toEqual([' expected object, got array']);
    expect(messages({ checks: 'none' })).toEqual(['/checks expected array, got string']);
  });

  it('implements anyOf, oneOf, allOf, not and type lists', () => {
    expect(validate({ anyOf: [{ type: 'string' }, { type: 'null' }] }, null)).toEqual([]);
    expect(validate({ anyOf: [{ type: 'string' }, { type: 'null' }] }, 1)).toHaveLength(1);
    expect(validate({ oneOf: [{ type: 'number' }, { type: 'integer' }] }, 2)).toEqual([{ path: '', message: 'matches 2 of oneOf (exactly 1 required)' }]);
    expect(validate({ allOf: [{ type: 'string' }, { maxLength: 2 }] }, 'abc')).toEqual([{ path: '', message: 'longer than 2' }]);
    expect(validate({ not: { const: 'x' } }, 'x')).toHaveLength(1);
    expect(validate({ type: ['string', 'null'] }, null)).toEqual([]);
  });

  it('refuses a keyword it does not implement instead of ignoring it', () => {
    expect(() => validate({ type: 'object', dependentRequired: { a: ['b'] } }, {})).toThrow('unsupported JSON Schema keyword "dependentRequired"');
  });

  it('refuses references it cannot resolve', () => {
    expect(() => validate({ $ref: '#/components/schemas/Nope' }, {}, root)).toThrow('unresolvable reference');
    expect(() => validate({ $ref: 'https://example.com/s.json' }, {}, root)).toThrow('only local references');
  });
});
