import { type Verdict } from '../../src/verdict';
import { ProblemSchema, type Problem } from '../../src/http/problem';
import type { World } from '../world';
import type { Reply, RunningService } from '../world/serviceProcess';

export { startService, type Reply, type RunningService } from '../world/serviceProcess';

export function parseProblem(reply: Reply): Problem {
  expect(reply.contentType).toBe('application/problem+json');
  return ProblemSchema.parse(reply.json());
}

export function checkOf(verdict: Verdict, target: string) {
  const c = verdict.checks.find((x) => x.target === target);
  if (!c) throw new Error(`no check for ${target} in ${verdict.checks.map((x) => x.target).join(', ')}`);
  return c;
}

/** Every minted token, the identity header and every secret value: none may appear in anything the service said. */
export function expectNoLeaks(world: World, services: RunningService[]): void {
  const haystack = services.flatMap((s) => [...s.replies(), s.logs()]).join('\n');
  expect(haystack.length).toBeGreaterThan(0);
  const needles = [...world.mintedTokens, world.identityHeader, ...world.secretValues()];
  const leaked = needles.filter((n) => n && haystack.includes(n));
  expect(leaked).toEqual([]);
}
