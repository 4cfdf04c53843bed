import { hostPort } from '../../wire/transport';
import { resourceOf, type IdentitySource } from './types';

/**
 * The instance metadata service (MSAL `Imds`, the fallback when nothing else is selected): VMs, scale sets, AKS nodes.
 * GET http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=… with `Metadata: true`
 * (AZURE_POD_IDENTITY_AUTHORITY_HOST replaces the base); a user-assigned identity by client_id or msi_res_id.
 */
export const IMDS_BASE = 'http://169.254.169.254';

export const imds: IdentitySource = {
  id: 'imds',
  detect: () => true,
  endpoint: (s) => hostPort(s.platform.imdsAuthorityHost ?? IMDS_BASE) ?? '169.254.169.254',
  request(s, audience) {
    // MSAL appends the path to AZURE_POD_IDENTITY_AUTHORITY_HOST as a string (a path prefix there survives).
    const url = new URL(`${s.platform.imdsAuthorityHost ?? IMDS_BASE}/metadata/identity/oauth2/token`);
    url.searchParams.set('api-version', '2018-02-01');
    url.searchParams.set('resource', resourceOf(audience));
    if (s.clientId) url.searchParams.set('client_id', s.clientId);
    if (s.clientResourceId) url.searchParams.set('msi_res_id', s.clientResourceId);
    return { url, method: 'GET', headers: { Metadata: 'true' } };
  },
  // In a Kubernetes pod IMDS is the node's: the pod is on AKS without (working) workload identity.
  hostKind: (s, answered) => (s.platform.kubernetes ? 'aks' : answered ? 'vm' : 'local'),
  variables: (s) => ({ AZURE_POD_IDENTITY_AUTHORITY_HOST: s.platform.imdsAuthorityHost ?? `absent (IMDS at ${IMDS_BASE.slice(7)})` }),
};
