import fs from 'node:fs';

/**
 * A reader for the subset of Bicep that infra/ uses, so tests can hold the templates to the catalogs in src without a
 * Bicep compiler (none can be installed here). It parses every declaration and evaluates variables that depend only
 * on parameters, functions and deploy-time built-ins, exactly as ARM would for given parameter values. Anything
 * outside the subset throws, so a template change the reader does not understand fails loudly instead of passing.
 */

export type Expr =
  | { t: 'str'; parts: (string | Expr)[] }
  | { t: 'num'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'null' }
  | { t: 'id'; name: string }
  | { t: 'obj'; props: { key: string; value: Expr }[] }
  | { t: 'arr'; items: Expr[] }
  | { t: 'member'; obj: Expr; name: string }
  | { t: 'index'; obj: Expr; index: Expr }
  | { t: 'call'; callee: string; args: Expr[] }
  | { t: 'not'; arg: Expr }
  | { t: 'neg'; arg: Expr }
  | { t: 'nonNull'; arg: Expr }
  | { t: 'bin'; op: string; l: Expr; r: Expr }
  | { t: 'cond'; test: Expr; then: Expr; else: Expr }
  | { t: 'lambda'; params: string[]; body: Expr }
  | { t: 'for'; item: string; index?: string; source: Expr; condition?: Expr; body: Expr };

export interface Decorator {
  name: string;
  args: Expr[];
}

export interface Param {
  name: string;
  type: string;
  default?: Expr;
  decorators: Decorator[];
}

export interface Deployable {
  name: string;
  /** Resource type with api version, or the module's path. */
  ref: string;
  existing: boolean;
  condition?: Expr;
  loop?: { item: string; index?: string; source: Expr; condition?: Expr };
  body: Expr & { t: 'obj' };
}

export interface BicepFile {
  path: string;
  text: string;
  targetScope?: string;
  params: Map<string, Param>;
  vars: Map<string, Expr>;
  funcs: Map<string, { params: string[]; body: Expr }>;
  resources: Deployable[];
  modules: Deployable[];
  outputs: Map<string, { type: string; value: Expr }>;
}

// ---------------------------------------------------------------------------------------------------------- tokens

type Token =
  | { k: 'nl' }
  | { k: 'id'; v: string }
  | { k: 'num'; v: number }
  | { k: 'str'; parts: (string | Expr)[] }
  | { k: 'p'; v: string }
  | { k: 'eof' };

const PUNCT = ['=>', '==', '!=', '>=', '<=', '&&', '||', '??', '.?', '{', '}', '[', ']', '(', ')', ',', ':', '.', '?', '!', '=', '<', '>', '@', '+', '-', '*', '/', '%'];
const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", $: '$' };

function tokenize(src: string, where: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const fail = (msg: string): never => {
    const line = src.slice(0, i).split('\n').length;
    throw new Error(`${where}:${line}: ${msg}`);
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\r') i++;
    else if (c === '\n') {
      out.push({ k: 'nl' });
      i++;
    } else if (src.startsWith('//', i)) {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (src.startsWith('/*', i)) {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) fail('unterminated comment');
      i = end + 2;
    } else if (src.startsWith("'''", i)) {
      fail('multi-line strings are outside the subset this reader understands');
    } else if (c === "'") {
      const parts: (string | Expr)[] = [];
      let text = '';
      i++;
      for (;;) {
        if (i >= src.length) fail('unterminated string');
        const d = src[i]!;
        if (d === "'") {
          i++;
          break;
        }
        if (d === '\\') {
          const e = src[i + 1]!;
          if (!(e in ESCAPES)) fail(`unknown escape \\${e}`);
          text += ESCAPES[e];
          i += 2;
        } else if (src.startsWith('${', i)) {
          if (text) parts.push(text);
          text = '';
          const start = i + 2;
          const end = matchingBrace(src, start, fail);
          parts.push(parseExpression(src.slice(start, end), `${where} (interpolation)`));
          i = end + 1;
        } else {
          text += d;
          i++;
        }
      }
      if (text || parts.length === 0) parts.push(text);
      out.push({ k: 'str', parts });
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+/.exec(src.slice(i))!;
      out.push({ k: 'num', v: Number(m[0]) });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      out.push({ k: 'id', v: m[0] });
      i += m[0].length;
    } else {
      const p = PUNCT.find((x) => src.startsWith(x, i));
      if (!p) fail(`unexpected character ${JSON.stringify(c)}`);
      out.push({ k: 'p', v: p! });
      i += p!.length;
    }
  }
  out.push({ k: 'eof' });
  return out;
}

/** Index of the `}` closing an interpolation that starts at `start`, skipping nested strings and braces. */
function matchingBrace(src: string, start: number, fail: (m: string) => never): number {
  let depth = 0;
  for (let i = start; i < src.length; i++) {
    const c = src[i];
    if (c === "'") {
      for (i++; i < src.length && src[i] !== "'"; i++) if (src[i] === '\\') i++;
    } else if (c === '{') depth++;
    else if (c === '}') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return fail('unterminated interpolation');
}

// ---------------------------------------------------------------------------------------------------------- parser

class Parser {
  private pos = 0;
  constructor(
    private readonly toks: Token[],
    private readonly where: string,
  ) {}

  peek(offset = 0): Token {
    return this.toks[Math.min(this.pos + offset, this.toks.length - 1)]!;
  }
  next(): Token {
    return this.toks[this.pos++]!;
  }
  isP(v: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.k === 'p' && t.v === v;
  }
  isId(v?: string): boolean {
    const t = this.peek();
    return t.k === 'id' && (v === undefined || t.v === v);
  }
  fail(msg: string): never {
    throw new Error(`${this.where}: ${msg} (at token ${this.pos}: ${JSON.stringify(this.peek())})`);
  }
  expectP(v: string): void {
    if (!this.isP(v)) this.fail(`expected "${v}"`);
    this.pos++;
  }
  expectId(): string {
    const t = this.next();
    if (t.k !== 'id') {
      this.pos--;
      this.fail('expected an identifier');
    }
    return t.v;
  }
  skipNl(): void {
    while (this.peek().k === 'nl') this.pos++;
  }
  atEnd(): boolean {
    return this.peek().k === 'eof';
  }

  expr(): Expr {
    // Lambda: `x => …` or `(x, y) => …`
    if (this.peek().k === 'id' && this.isP('=>', 1)) {
      const name = this.expectId();
      this.expectP('=>');
      return { t: 'lambda', params: [name], body: this.expr() };
    }
    const test = this.binary(0);
    if (this.isP('?')) {
      this.pos++;
      const then = this.expr();
      this.expectP(':');
      return { t: 'cond', test, then, else: this.expr() };
    }
    return test;
  }

  private static readonly PRECEDENCE: Record<string, number> = {
    '??': 1, '||': 2, '&&': 3, '==': 4, '!=': 4, '<': 5, '>': 5, '<=': 5, '>=': 5, '+': 6, '-': 6, '*': 7, '/': 7, '%': 7,
  };

  private binary(min: number): Expr {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      const prec = t.k === 'p' ? Parser.PRECEDENCE[t.v] : undefined;
      if (prec === undefined || prec <= min) return left;
      this.pos++;
      left = { t: 'bin', op: (t as { v: string }).v, l: left, r: this.binary(prec) };
    }
  }

  private unary(): Expr {
    if (this.isP('!')) {
      this.pos++;
      return { t: 'not', arg: this.unary() };
    }
    if (this.isP('-')) {
      this.pos++;
      return { t: 'neg', arg: this.unary() };
    }
    return this.postfix(this.primary());
  }

  private postfix(e: Expr): Expr {
    for (;;) {
      if (this.isP('.') || this.isP('.?')) {
        this.pos++;
        e = { t: 'member', obj: e, name: this.expectId() };
      } else if (this.isP('[')) {
        this.pos++;
        if (this.isP('?')) this.pos++;
        const index = this.expr();
        this.expectP(']');
        e = { t: 'index', obj: e, index };
      } else if (this.isP('!') && !this.isP('=', 1)) {
        this.pos++;
        e = { t: 'nonNull', arg: e };
      } else return e;
    }
  }

  private primary(): Expr {
    const t = this.next();
    switch (t.k) {
      case 'str':
        return { t: 'str', parts: t.parts };
      case 'num':
        return { t: 'num', v: t.v };
      case 'id':
        if (t.v === 'true' || t.v === 'false') return { t: 'bool', v: t.v === 'true' };
        if (t.v === 'null') return { t: 'null' };
        if (this.isP('(')) return { t: 'call', callee: t.v, args: this.args() };
        return { t: 'id', name: t.v };
      case 'p':
        if (t.v === '(') {
          this.skipNl();
          const e = this.expr();
          this.skipNl();
          this.expectP(')');
          return e;
        }
        if (t.v === '{') return this.objectRest();
        if (t.v === '[') return this.isId('for') ? this.forRest() : this.arrayRest();
        break;
    }
    this.pos--;
    return this.fail('unexpected token');
  }

  args(): Expr[] {
    this.expectP('(');
    const args: Expr[] = [];
    this.skipNl();
    while (!this.isP(')')) {
      args.push(this.expr());
      this.skipNl();
      if (this.isP(',')) this.pos++;
      this.skipNl();
    }
    this.expectP(')');
    return args;
  }

  /** After `{`: properties separated by newlines (or commas on one line). */
  objectRest(): Expr & { t: 'obj' } {
    const props: { key: string; value: Expr }[] = [];
    for (;;) {
      this.skipNl();
      if (this.isP('}')) break;
      if (this.isP(',')) {
        this.pos++;
        continue;
      }
      if (this.isId('resource') && this.peek(1).k === 'id' && this.peek(2).k === 'str') {
        // A nested child resource: kept as a property named after it.
        this.next();
        const name = this.expectId();
        this.next();
        const child = parseDeployable(this, true);
        props.push({ key: `resource ${name}`, value: child.body });
        continue;
      }
      const k = this.next();
      let key: string;
      if (k.k === 'id') key = k.v;
      else if (k.k === 'str' && k.parts.every((p) => typeof p === 'string')) key = k.parts.join('');
      else if (k.k === 'str') key = '${…}'; // interpolated key (e.g. a resource id): kept, not evaluated by name
      else {
        this.pos--;
        this.fail('expected a property name');
      }
      this.expectP(':');
      props.push({ key, value: this.expr() });
    }
    this.expectP('}');
    return { t: 'obj', props };
  }

  arrayRest(): Expr {
    const items: Expr[] = [];
    for (;;) {
      this.skipNl();
      if (this.isP(']')) break;
      if (this.isP(',')) {
        this.pos++;
        continue;
      }
      items.push(this.expr());
    }
    this.expectP(']');
    return { t: 'arr', items };
  }

  /** After `[`: `for x in source: [if (cond)] body]`. */
  forRest(): Expr {
    this.expectId(); // for
    let item: string;
    let index: string | undefined;
    if (this.isP('(')) {
      this.pos++;
      item = this.expectId();
      this.expectP(',');
      index = this.expectId();
      this.expectP(')');
    } else item = this.expectId();
    if (this.expectId() !== 'in') this.fail('expected "in"');
    const source = this.expr();
    this.expectP(':');
    let condition: Expr | undefined;
    if (this.isId('if')) {
      this.pos++;
      this.expectP('(');
      condition = this.expr();
      this.expectP(')');
    }
    const body = this.expr();
    this.skipNl();
    this.expectP(']');
    return { t: 'for', item, index, source, condition, body };
  }
}

export function parseExpression(src: string, where = 'expression'): Expr {
  const p = new Parser(tokenize(src, where), where);
  p.skipNl();
  const e = p.expr();
  p.skipNl();
  if (!p.atEnd()) p.fail('trailing tokens');
  return e;
}

function parseDeployable(p: Parser, existingAllowed: boolean): Omit<Deployable, 'name' | 'ref'> {
  let existing = false;
  if (existingAllowed && p.isId('existing')) {
    p.next();
    existing = true;
  }
  p.expectP('=');
  let condition: Expr | undefined;
  if (p.isId('if')) {
    p.next();
    p.expectP('(');
    condition = p.expr();
    p.expectP(')');
  }
  const body = p.expr();
  if (body.t === 'obj') return { existing, condition, body };
  if (body.t === 'for' && body.body.t === 'obj') {
    return { existing, loop: { item: body.item, index: body.index, source: body.source, condition: body.condition }, body: body.body };
  }
  return p.fail('expected a resource or module body');
}

export function readBicep(path: string): BicepFile {
  const text = fs.readFileSync(path, 'utf8');
  const p = new Parser(tokenize(text, path), path);
  const file: BicepFile = { path, text, params: new Map(), vars: new Map(), funcs: new Map(), resources: [], modules: [], outputs: new Map() };
  let decorators: Decorator[] = [];
  const stringValue = (e: Expr): string => {
    if (e.t !== 'str' || e.parts.some((x) => typeof x !== 'string')) return p.fail('expected a plain string');
    return e.parts.join('');
  };
  for (p.skipNl(); !p.atEnd(); p.skipNl()) {
    if (p.isP('@')) {
      p.next();
      const name = p.expectId();
      decorators.push({ name, args: p.isP('(') ? p.args() : [] });
      continue;
    }
    const keyword = p.expectId();
    switch (keyword) {
      case 'targetScope':
        p.expectP('=');
        file.targetScope = stringValue(p.expr());
        break;
      case 'param': {
        const name = p.expectId();
        const type = p.expectId();
        let dflt: Expr | undefined;
        if (p.isP('=')) {
          p.next();
          dflt = p.expr();
        }
        file.params.set(name, { name, type, default: dflt, decorators });
        break;
      }
      case 'var': {
        const name = p.expectId();
        p.expectP('=');
        file.vars.set(name, p.expr());
        break;
      }
      case 'func': {
        const name = p.expectId();
        p.expectP('(');
        const params: string[] = [];
        while (!p.isP(')')) {
          params.push(p.expectId());
          p.expectId(); // type
          if (p.isP(',')) p.next();
        }
        p.expectP(')');
        p.expectId(); // return type
        p.expectP('=>');
        file.funcs.set(name, { params, body: p.expr() });
        break;
      }
      case 'resource':
      case 'module': {
        const name = p.expectId();
        const ref = stringValue(p.expr());
        const rest = parseDeployable(p, keyword === 'resource');
        (keyword === 'resource' ? file.resources : file.modules).push({ name, ref, ...rest });
        break;
      }
      case 'output': {
        const name = p.expectId();
        const type = p.expectId();
        p.expectP('=');
        file.outputs.set(name, { type, value: p.expr() });
        break;
      }
      default:
        p.fail(`declaration "${keyword}" is outside the subset this reader understands`);
    }
    decorators = [];
  }
  return file;
}

// ------------------------------------------------------------------------------------------------------- evaluator

export interface EvalContext {
  /** Parameter values; parameters left out take their default. */
  params: Record<string, unknown>;
  /** What `environment()` returns (ARM's shape: { name, suffixes: { keyvaultDns, storage, … } }). */
  environment: unknown;
}

type Scope = Map<string, unknown>;

class Lambda {
  constructor(
    readonly params: string[],
    readonly body: Expr,
    readonly scope: Scope,
  ) {}
}

/** Evaluates `var` declarations of a file as ARM would for `ctx.params`; resources and modules are out of reach. */
export class Evaluator {
  private readonly memo = new Map<string, unknown>();
  constructor(
    private readonly file: BicepFile,
    private readonly ctx: EvalContext,
  ) {
    for (const name of Object.keys(ctx.params)) {
      if (!file.params.has(name)) throw new Error(`${file.path} has no parameter "${name}"`);
    }
  }

  variable(name: string): unknown {
    if (this.memo.has(name)) return this.memo.get(name);
    const e = this.file.vars.get(name);
    if (!e) throw new Error(`${this.file.path} has no variable "${name}"`);
    const v = this.eval(e, new Map());
    this.memo.set(name, v);
    return v;
  }

  eval(e: Expr, scope: Scope): unknown {
    switch (e.t) {
      case 'str':
        return e.parts.map((p) => (typeof p === 'string' ? p : this.asString(this.eval(p, scope)))).join('');
      case 'num':
      case 'bool':
        return e.v;
      case 'null':
        return null;
      case 'id':
        return this.lookup(e.name, scope);
      case 'obj':
        return Object.fromEntries(e.props.map((p) => [p.key, this.eval(p.value, scope)]));
      case 'arr':
        return e.items.map((i) => this.eval(i, scope));
      case 'member': {
        const o = this.eval(e.obj, scope);
        if (o === null || typeof o !== 'object' || !(e.name in o)) throw new Error(`no property "${e.name}" in ${JSON.stringify(o)}`);
        return (o as Record<string, unknown>)[e.name];
      }
      case 'index': {
        const o = this.eval(e.obj, scope);
        const i = this.eval(e.index, scope);
        if (Array.isArray(o) && typeof i === 'number') {
          if (i < 0 || i >= o.length) throw new Error(`index ${i} out of range (ARM fails the deployment here)`);
          return o[i];
        }
        if (o && typeof o === 'object' && typeof i === 'string') {
          if (!(i in o)) throw new Error(`no property "${i}" (ARM fails the deployment here)`);
          return (o as Record<string, unknown>)[i];
        }
        throw new Error(`cannot index ${JSON.stringify(o)} with ${JSON.stringify(i)}`);
      }
      case 'not':
        return !this.bool(this.eval(e.arg, scope));
      case 'neg':
        return -(this.eval(e.arg, scope) as number);
      case 'nonNull':
        return this.eval(e.arg, scope);
      case 'cond':
        // ARM's if(): only the branch taken is evaluated.
        return this.bool(this.eval(e.test, scope)) ? this.eval(e.then, scope) : this.eval(e.else, scope);
      case 'bin':
        return this.binary(e.op, e.l, e.r, scope);
      case 'lambda':
        return new Lambda(e.params, e.body, scope);
      case 'call':
        return this.call(e.callee, e.args, scope);
      case 'for': {
        const source = this.eval(e.source, scope);
        if (!Array.isArray(source)) throw new Error('for over a non-array');
        return source.flatMap((item, i) => {
          const inner = new Map(scope).set(e.item, item);
          if (e.index) inner.set(e.index, i);
          return e.condition && !this.bool(this.eval(e.condition, inner)) ? [] : [this.eval(e.body, inner)];
        });
      }
    }
  }

  private lookup(name: string, scope: Scope): unknown {
    if (scope.has(name)) return scope.get(name);
    const param = this.file.params.get(name);
    if (param) {
      if (name in this.ctx.params) return this.ctx.params[name];
      if (param.default) return this.eval(param.default, new Map());
      throw new Error(`parameter "${name}" has no default and no value`);
    }
    if (this.file.vars.has(name)) return this.variable(name);
    throw new Error(`"${name}" is not evaluable here (a resource or module is only known at deployment)`);
  }

  private bool(v: unknown): boolean {
    if (typeof v !== 'boolean') throw new Error(`expected a bool, got ${JSON.stringify(v)}`);
    return v;
  }

  private asString(v: unknown): string {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    return JSON.stringify(v);
  }

  private binary(op: string, l: Expr, r: Expr, scope: Scope): unknown {
    if (op === '&&') return this.bool(this.eval(l, scope)) && this.bool(this.eval(r, scope));
    if (op === '||') return this.bool(this.eval(l, scope)) || this.bool(this.eval(r, scope));
    const a = this.eval(l, scope);
    if (op === '??') return a ?? this.eval(r, scope);
    const b = this.eval(r, scope);
    switch (op) {
      case '==':
        return JSON.stringify(a) === JSON.stringify(b);
      case '!=':
        return JSON.stringify(a) !== JSON.stringify(b);
      case '<':
        return (a as number) < (b as number);
      case '>':
        return (a as number) > (b as number);
      case '<=':
        return (a as number) <= (b as number);
      case '>=':
        return (a as number) >= (b as number);
      case '+':
        return (a as number) + (b as number);
      case '-':
        return (a as number) - (b as number);
      default:
        throw new Error(`operator ${op} is outside the subset`);
    }
  }

  private apply(f: unknown, args: unknown[]): unknown {
    if (!(f instanceof Lambda)) throw new Error('expected a lambda');
    const scope = new Map(f.scope);
    f.params.forEach((p, i) => scope.set(p, args[i]));
    return this.eval(f.body, scope);
  }

  private call(callee: string, argExprs: Expr[], scope: Scope): unknown {
    const fn = this.file.funcs.get(callee);
    const args = argExprs.map((a) => this.eval(a, scope));
    if (fn) {
      // User-defined functions see only their arguments.
      return this.eval(fn.body, new Map(fn.params.map((p, i) => [p, args[i]])));
    }
    const [a, b] = args;
    switch (callee) {
      case 'environment':
        return this.ctx.environment;
      case 'length':
        return typeof a === 'string' || Array.isArray(a) ? a.length : Object.keys(a as object).length;
      case 'empty':
        return a === null || a === '' || (Array.isArray(a) && a.length === 0) || (typeof a === 'object' && a !== null && Object.keys(a).length === 0);
      case 'split':
        return (a as string).split(b as string);
      case 'join':
        return (a as unknown[]).map((x) => this.asString(x)).join(b as string);
      case 'take':
        return (a as unknown[]).slice(0, b as number);
      case 'first':
        return (a as unknown[])[0] ?? null;
      case 'last':
        return (a as unknown[]).at(-1) ?? null;
      case 'toLower':
        return (a as string).toLowerCase();
      case 'contains':
        return typeof a === 'string' ? a.includes(b as string) : Array.isArray(a) ? a.includes(b) : Object.hasOwn(a as object, b as string);
      case 'string':
        return this.asString(a);
      case 'union':
        return Object.assign({}, ...(args as object[]));
      case 'concat':
        return (args as unknown[][]).flat();
      case 'filter':
        return (a as unknown[]).filter((x) => this.bool(this.apply(b, [x])));
      case 'map':
        return (a as unknown[]).map((x) => this.apply(b, [x]));
      default:
        throw new Error(`function ${callee}() is outside the subset this reader evaluates`);
    }
  }
}

/** The object literal a declaration or property path leads to, for reading keys without evaluating values. */
export function objectAt(e: Expr | undefined, ...path: string[]): Expr & { t: 'obj' } {
  let cur = e;
  for (const key of path) {
    if (!cur || cur.t !== 'obj') throw new Error(`no object at ${path.join('.')}`);
    cur = cur.props.find((p) => p.key === key)?.value;
  }
  if (!cur || cur.t !== 'obj') throw new Error(`no object literal at ${path.join('.') || '(root)'}`);
  return cur;
}

/** Every object literal inside an expression (depth first), e.g. each argument of a union(). */
export function objectLiterals(e: Expr): (Expr & { t: 'obj' })[] {
  const found: (Expr & { t: 'obj' })[] = [];
  const walk = (x: Expr): void => {
    switch (x.t) {
      case 'obj':
        found.push(x);
        x.props.forEach((p) => walk(p.value));
        break;
      case 'arr':
        x.items.forEach(walk);
        break;
      case 'call':
        x.args.forEach(walk);
        break;
      case 'cond':
        walk(x.then);
        walk(x.else);
        break;
      default:
        break;
    }
  };
  walk(e);
  return found;
}

/** Renders an expression back to compact Bicep-like text (for assertions on how a value is computed). */
export function show(e: Expr): string {
  switch (e.t) {
    case 'str':
      return `'${e.parts.map((p) => (typeof p === 'string' ? p : `\${${show(p)}}`)).join('')}'`;
    case 'num':
    case 'bool':
      return String(e.v);
    case 'null':
      return 'null';
    case 'id':
      return e.name;
    case 'obj':
      return `{ ${e.props.map((p) => `${p.key}: ${show(p.value)}`).join(', ')} }`;
    case 'arr':
      return `[${e.items.map(show).join(', ')}]`;
    case 'member':
      return `${show(e.obj)}.${e.name}`;
    case 'index':
      return `${show(e.obj)}[${show(e.index)}]`;
    case 'call':
      return `${e.callee}(${e.args.map(show).join(', ')})`;
    case 'not':
      return `!${show(e.arg)}`;
    case 'neg':
      return `-${show(e.arg)}`;
    case 'nonNull':
      return `${show(e.arg)}!`;
    case 'bin':
      return `${show(e.l)} ${e.op} ${show(e.r)}`;
    case 'cond':
      return `${show(e.test)} ? ${show(e.then)} : ${show(e.else)}`;
    case 'lambda':
      return `${e.params.join(', ')} => ${show(e.body)}`;
    case 'for':
      return `[for ${e.item} in ${show(e.source)}: ${show(e.body)}]`;
  }
}
