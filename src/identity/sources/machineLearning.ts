import { hostPort } from '../../wire/transport';
import { resourceOf, setOrAbsent, type IdentitySource } from './types';

/**
 * Azure Machine Learning (MSAL `MachineLearning`): MSI_ENDPOINT + MSI_SECRET. GET {MSI_ENDPOINT}?api-version=2017-09-01
 * &resource=… with `Metadata: true` and `secret: {MSI_SECRET}`; the 2017 protocol names an identity by `clientid`,
 * and for the system-assigned one MSAL sends DEFAULT_IDENTITY_CLIENT_ID.
 */
export const machineLearning: IdentitySource = {
  id: 'machineLearning',
  detect: (s) => !!(s.platform.msiEndpoint && s.platform.msiSecretSet),
  endpoint: (s) => hostPort(s.platform.msiEndpoint ?? '') ?? 'MSI_ENDPOINT',
  request(s, audience) {
    const secret = s.platform.msiSecret();
    if (!s.platform.msiEndpoint || !secret) return undefined;
    const url = new URL(s.platform.msiEndpoint);
    url.searchParams.set('api-version', '2017-09-01');
    url.searchParams.set('resource', resourceOf(audience));
    const clientId = s.clientId ?? s.platform.defaultIdentityClientId;
    if (clientId) url.searchParams.set('clientid', clientId);
    return { url, method: 'GET', headers: { Metadata: 'true', secret } };
  },
  hostKind: () => 'machineLearning',
  variables: (s) => ({ MSI_ENDPOINT: setOrAbsent(s.platform.msiEndpoint), MSI_SECRET: setOrAbsent(s.platform.msiSecretSet) }),
};
