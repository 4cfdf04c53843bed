import { MAX_WAIT_SECONDS } from '../engine/wait';

/** `identity-doctor --help`: written for someone who has never seen the tool, with one recipe per place it runs. */
export const HELP = `identity-doctor — can this machine's managed identity reach each of its dependencies, and if not, why?

Run it where the workload runs (same host, same identity): it asks the platform's identity endpoint for a token
per dependency, calls each dependency once with the least privilege needed, and explains every failure with a fix.

Usage
  identity-doctor diagnose [options]
  identity-doctor --help | --version

Options
  --targets <file>       JSON array of targets (same shape as the DIAGNOSE_TARGETS setting). Default: DIAGNOSE_TARGETS.
  -t, --target <a,b>     Run only these targets (by name).
  -f, --format <fmt>     text (default), json, junit or html. The report goes to stdout; errors go to stderr.
  --wait <seconds>       Re-probe failing checks that can still heal (a role granted minutes ago, throttling) until
                         they pass or the time runs out (at most ${MAX_WAIT_SECONDS}). Use it right after a deployment.
  --fail-on <level>      fail (default): exit 1 only when a check fails. warn: also when a check warns.
  --probe raw            Also ask the identity endpoint directly with the platform's own protocol, even on success.
  --local-chain          Off Azure: narrate what the developer credential chain (az login, azd, …) would do instead.
  -h, --help             This help.

Exit codes
  0  no check failed (pass or warn)      1  a check failed (or warned, with --fail-on warn)
  2  usage error: unknown option, bad value, unreadable or invalid targets file, bad setting
  3  internal error in identity-doctor itself (please report it)

Settings (environment variables, the same as the HTTP service)
  DIAGNOSE_TARGETS       the targets, when --targets is not given
  AZURE_CLIENT_ID        the user-assigned identity to run as (client id); unset: the system-assigned identity
  EXPECTED_PRINCIPAL_ID, EXPECTED_TENANT_ID, AZURE_CLOUD, DIAGNOSE_TIMEOUT_MS, DIAGNOSE_LOCAL_CHAIN, …

A targets file
  [
    {"name": "secrets", "kind": "keyVaultSecret", "vaultUrl": "https://kv-app.vault.azure.net", "secretName": "db-password"},
    {"name": "blobs", "kind": "storageBlob", "accountUrl": "https://stapp.blob.core.windows.net", "container": "data"},
    {"name": "arm", "kind": "armResource", "resourceId": "/subscriptions/<sub>/resourceGroups/rg-app"}
  ]
  Add "resourceId" (the ARM id of the vault or account) to let a 403 be explained with the roles the identity holds.

Examples
  On a VM or a scale-set instance (IMDS), as the user-assigned identity the app uses:
    AZURE_CLIENT_ID=<client-id> npx identity-doctor diagnose --targets targets.json

  In an AKS Job after a rollout, as the pod's workload identity (deploy/kubernetes/job.yaml); the Job fails when a
  dependency is unreachable:
    identity-doctor diagnose --targets /config/targets.json --wait 120 --format text

  In a pipeline whose agent runs as the workload's identity (a self-hosted agent on the workload's VM or pool):
    npx identity-doctor diagnose --targets targets.json --wait 180 --format junit > identity-doctor.xml

  On a laptop (no managed identity here): see what your developer sign-in would do instead:
    npx identity-doctor diagnose --targets targets.json --local-chain

  Only two targets, and fail the step on warnings too:
    identity-doctor diagnose --target secrets,blobs --fail-on warn

More: docs/cli.md and docs/where-it-runs.md.
`;
