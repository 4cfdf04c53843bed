import { InvocationContext, type Timer } from '@azure/functions';
import path from 'node:path';
import { registerIdentityDoctor, type RegisteredTimerFunction } from '../../src/register';
import { memoryTelemetry, type Drained } from '../unit/watch/memoryTelemetry';

/**
 * A host process for the watch, forked by watch.test.ts with the simulated world's environment (its CA and DNS
 * preload only take effect in a fresh process). `node watchHost.js memory` hands the watch the real OpenTelemetry SDK
 * with in-memory exporters; `node watchHost.js distro` leaves telemetry to the default (the Azure Monitor distro,
 * APPLICATIONINSIGHTS_CONNECTION_STRING from the environment). Each `{ type: 'tick' }` message runs the timer handler
 * once, as the host would on schedule, and answers with what was exported and logged.
 */

export interface TickReply {
  type: 'ticked';
  drained?: Drained;
  logs: string[];
  /** Whether @azure/monitor-opentelemetry had been loaded into this process before / after the run. */
  distroLoaded: { before: boolean; after: boolean };
}

const mode = process.argv[2];
const memory = mode === 'memory' ? memoryTelemetry() : undefined;
const registration = registerIdentityDoctor({ watchSchedule: '0 */5 * * * *', ...(memory ? { telemetry: memory.providers } : {}) });
const watch = registration.functions.find((f): f is RegisteredTimerFunction => f.trigger === 'timer');
if (!watch) throw new Error('no watch registered');

const distroLoaded = () => Object.keys(require.cache).some((k) => k.includes(`${path.sep}@azure${path.sep}monitor-opentelemetry${path.sep}`));

async function tick(): Promise<TickReply> {
  const logs: string[] = [];
  const before = distroLoaded();
  const now = new Date().toISOString();
  const timer: Timer = { isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: { last: now, next: now, lastUpdated: now } };
  const context = new InvocationContext({
    functionName: watch!.name,
    logHandler: (level, ...args) => logs.push(`[${level}] ${args.map(String).join(' ')}`),
  });
  await watch!.handler(timer, context);
  return { type: 'ticked', drained: memory?.drain(), logs, distroLoaded: { before, after: distroLoaded() } };
}

process.on('message', (message: { type: string }) => {
  if (message.type === 'tick') void tick().then((reply) => process.send!(reply));
  if (message.type === 'stop') process.exit(0);
});
process.send!({ type: 'ready', functions: registration.functions.map((f) => f.name) });
