import { hostPort } from '../../wire/transport';
import { resourceOf, setOrAbsent, type IdentitySource } from './types';

/**
 * Azure Cloud Shell (MSAL `CloudShell`): MSI_ENDPOINT alone. POST {MSI_ENDPOINT} with `Metadata: true` and the form
 * body `resource=…`; the token is the signed-in user's, and no user-assigned identity can be named
 * (@azure/identity refuses a client id here).
 */
export const cloudShell: IdentitySource = {
  id: 'cloudShell',
  detect: (s) => !!s.platform.msiEndpoint,
  endpoint: (s) => hostPort(s.platform.msiEndpoint ?? '') ?? 'MSI_ENDPOINT',
  request(s, audience) {
    if (!s.platform.msiEndpoint) return undefined;
    return { url: new URL(s.platform.msiEndpoint), method: 'POST', headers: { Metadata: 'true' }, form: { resource: resourceOf(audience) } };
  },
  hostKind: () => 'cloudShell',
  variables: (s) => ({ MSI_ENDPOINT: setOrAbsent(s.platform.msiEndpoint) }),
};
