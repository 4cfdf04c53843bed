import { performance } from 'node:perf_hooks';
import { ManagedIdentityCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';

/**
 * Child process of P2: the bare SDK call a workload would make, with the SDK's default options (no timeout, default
 * retries), against a faulty simulated service. The parent runs it with the world's environment (CA, DNS preload,
 * IDENTITY_ENDPOINT) and kills it at the bench's bound; when the call ends by itself, it prints one JSON line.
 *
 *   node dist/bench/sdkAlone.js identity   ManagedIdentityCredential.getToken (Key Vault audience)
 *   node dist/bench/sdkAlone.js secret     SecretClient.getSecret('app-secret') on BENCH_VAULT_URL
 */
export interface SdkAloneOutput {
  ok: boolean;
  /** From just before the call (modules already loaded) to its end. */
  ms: number;
  error?: string;
}

async function main(): Promise<void> {
  const which = process.argv[2];
  const credential = new ManagedIdentityCredential({ clientId: process.env.AZURE_CLIENT_ID ?? '' });
  const started = performance.now();
  const done = (out: Omit<SdkAloneOutput, 'ms'>) =>
    process.stdout.write(`${JSON.stringify({ ...out, ms: Math.round(performance.now() - started) })}\n`);
  try {
    if (which === 'identity') {
      await credential.getToken('https://vault.azure.net/.default');
    } else if (which === 'secret') {
      await new SecretClient(process.env.BENCH_VAULT_URL ?? '', credential).getSecret('app-secret');
    } else {
      throw new Error(`unknown case ${String(which)}`);
    }
    done({ ok: true });
  } catch (err) {
    const e = err as { name?: string; message?: string; statusCode?: number };
    done({ ok: false, error: `${e.name ?? 'Error'}${e.statusCode ? ` ${e.statusCode}` : ''}: ${String(e.message ?? err).split('\n')[0]!.slice(0, 200)}` });
  }
}

if (require.main === module) void main();
