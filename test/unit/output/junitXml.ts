import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * Reads a JUnit document with a real XML parser, the way a test reporter would, into plain objects: attributes
 * without prefix noise, repeated elements always as arrays. Shared by the unit and integration tests.
 */

export interface JunitOutcome {
  message?: string;
  type?: string;
  body: string;
}
export interface JunitCase {
  name: string;
  classname: string;
  time: string;
  failure?: JunitOutcome;
  error?: JunitOutcome;
  skipped?: JunitOutcome;
}
export interface JunitSuite {
  name: string;
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  time: string;
  timestamp: string;
  properties: Record<string, string>;
  testcases: JunitCase[];
}
export interface JunitDoc {
  name: string;
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  suites: JunitSuite[];
}

type Node = Record<string, unknown>;

const outcome = (n: unknown): JunitOutcome | undefined => {
  if (n === undefined) return undefined;
  const o = (typeof n === 'object' && n ? n : { '#text': n ?? '' }) as Node;
  return {
    ...(o['@_message'] !== undefined ? { message: String(o['@_message']) } : {}),
    ...(o['@_type'] !== undefined ? { type: String(o['@_type']) } : {}),
    body: String(o['#text'] ?? ''),
  };
};

export function parseJunit(xml: string): JunitDoc {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`not well-formed XML: ${JSON.stringify(valid.err)}`);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: false,
    isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name),
  });
  const root = parser.parse(xml) as { testsuites: Node };
  const ts = root.testsuites;
  const num = (n: Node, k: string) => Number(n[`@_${k}`]);
  return {
    name: String(ts['@_name']),
    tests: num(ts, 'tests'),
    failures: num(ts, 'failures'),
    errors: num(ts, 'errors'),
    skipped: num(ts, 'skipped'),
    suites: ((ts.testsuite as Node[] | undefined) ?? []).map((s) => ({
      name: String(s['@_name']),
      tests: num(s, 'tests'),
      failures: num(s, 'failures'),
      errors: num(s, 'errors'),
      skipped: num(s, 'skipped'),
      time: String(s['@_time']),
      timestamp: String(s['@_timestamp']),
      properties: Object.fromEntries(
        (((s.properties as Node | undefined)?.property as Node[] | undefined) ?? []).map((p) => [String(p['@_name']), String(p['@_value'])]),
      ),
      testcases: ((s.testcase as Node[] | undefined) ?? []).map((c) => ({
        name: String(c['@_name']),
        classname: String(c['@_classname']),
        time: String(c['@_time']),
        ...(c.failure !== undefined ? { failure: outcome(c.failure) } : {}),
        ...(c.error !== undefined ? { error: outcome(c.error) } : {}),
        ...(c.skipped !== undefined ? { skipped: outcome(c.skipped) } : {}),
      })),
    })),
  };
}
