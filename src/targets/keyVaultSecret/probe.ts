import { SecretClient } from '@azure/keyvault-secrets';
import { boundedHttpClient } from '../../wire/boundedClient';
import { correlationFrom, guarded, type Probe } from '../probe';
import type { KeyVaultSecretTarget } from './index';

/**
 * Read the secret with SecretClient.getSecret — the exact call a workload makes. Needs the data action
 * Microsoft.KeyVault/vaults/secrets/getSecret/action (Key Vault Secrets User) on an RBAC vault, or an access policy
 * with secret "get". Reports that it was readable and its version; the value is dropped on the spot.
 */
export const probeKeyVaultSecret: Probe<KeyVaultSecretTarget> = (target, ctx) =>
  guarded(target.vaultUrl, ctx, async () => {
    // No retries: the first answer is the evidence (a retried 429 or 503 would hide it and spend the deadline).
    const client = new SecretClient(target.vaultUrl, ctx.credential, {
      retryOptions: { maxRetries: 0 },
      httpClient: boundedHttpClient(ctx.maxResponseBytes),
    });
    let headers: unknown;
    const secret = await client.getSecret(target.secretName, {
      abortSignal: ctx.signal,
      onResponse: (raw) => {
        headers = raw.headers;
      },
    });
    return {
      ok: true,
      httpStatus: 200,
      result: {
        readable: true,
        secretVersion: secret.properties.version ?? null,
        enabled: secret.properties.enabled ?? null,
      },
      correlation: correlationFrom(headers),
    };
  });
