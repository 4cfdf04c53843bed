import { timeoutSignal } from './deadline';
import {
  AzureCliCredential,
  AzureDeveloperCliCredential,
  AzurePowerShellCredential,
  EnvironmentCredential,
  WorkloadIdentityCredential,
  type TokenCredential,
} from '@azure/identity';
import { AzureLogger, getLogLevel, setLogLevel, type AzureLogLevel } from '@azure/logger';
import { redactText } from '../http/redact';
import type { LocalChain } from '../verdict';
import { decodeClaims } from './claims';
import { raceSignal } from './deadline';
import { sdkErrorText } from './identity';

/**
 * Off Azure there is no managed identity; what a developer gets instead is a credential chain. This narrates what
 * DefaultAzureCredential's developer links would do here — each tried in order, which declined and why, which
 * succeeded — with @azure/identity's own log lines as evidence. Nothing is kept of a token but its audience,
 * principal and tenant.
 */

const LINKS: [string, () => TokenCredential][] = [
  ['EnvironmentCredential', () => new EnvironmentCredential()],
  ['WorkloadIdentityCredential', () => new WorkloadIdentityCredential()],
  ['AzureCliCredential', () => new AzureCliCredential()],
  ['AzureDeveloperCliCredential', () => new AzureDeveloperCliCredential()],
  ['AzurePowerShellCredential', () => new AzurePowerShellCredential()],
];

const MAX_LOG_LINES = 30;

/** Run the chain once for `audience`, each link bounded, the whole bounded by `budgetMs`. Never throws. */
export async function narrateLocalChain(audience: string, budgetMs: number, signal: AbortSignal): Promise<LocalChain> {
  const log: string[] = [];
  // @azure/logger is process-wide; the narration runs only off Azure, and restores the level it found.
  const previousLevel = getLogLevel();
  const previousLog = AzureLogger.log;
  AzureLogger.log = (...args: unknown[]) => {
    if (log.length < MAX_LOG_LINES) log.push(redactText(args.map(String).join(' ')).split('\n')[0]!.slice(0, 300));
  };
  setLogLevel('info');
  const steps: LocalChain['steps'] = [];
  const deadline = AbortSignal.any([signal, timeoutSignal(budgetMs)]);
  try {
    for (const [name, make] of LINKS) {
      const started = Date.now();
      if (deadline.aborted) {
        steps.push({ credential: name, outcome: 'not_tried', reason: 'the diagnose deadline left no time', elapsedMs: 0 });
        continue;
      }
      try {
        const credential = make();
        const token = await raceSignal(credential.getToken(`${audience.replace(/\/+$/, '')}/.default`, { abortSignal: deadline }), deadline);
        if (!token) throw new Error('the credential returned no token');
        const claims = decodeClaims(token.token);
        steps.push({
          credential: name,
          outcome: 'succeeded',
          ...(claims?.aud ? { tokenAudience: claims.aud } : {}),
          ...(claims?.oid ? { principalId: claims.oid } : {}),
          ...(claims?.tid ? { tenantId: claims.tid } : {}),
          elapsedMs: Date.now() - started,
        });
        break; // like the real chain: the first success wins
      } catch (err) {
        const name_ = (err as { name?: string } | undefined)?.name;
        steps.push({
          credential: name,
          outcome: deadline.aborted ? 'timed_out' : name_ === 'CredentialUnavailableError' ? 'unavailable' : 'failed',
          reason: redactText(sdkErrorText(err)),
          elapsedMs: Date.now() - started,
        });
      }
    }
  } finally {
    AzureLogger.log = previousLog;
    setLogLevel(previousLevel as AzureLogLevel | undefined);
  }
  const winner = steps.find((s) => s.outcome === 'succeeded');
  return {
    steps,
    log,
    hint: winner
      ? `Locally, ${winner.credential} would authenticate as principal ${winner.principalId ?? '(unknown)'} — a developer identity, not the workload's managed identity: grants that work here prove nothing about the deployed app.`
      : 'No developer credential is signed in here: run `az login` (or `azd auth login`) and use DefaultAzureCredential for local development.',
  };
}
