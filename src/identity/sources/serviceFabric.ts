import { hostPort } from '../../wire/transport';
import { resourceOf, setOrAbsent, type IdentitySource } from './types';

/**
 * Service Fabric (MSAL `ServiceFabric`, checked first): IDENTITY_ENDPOINT + IDENTITY_HEADER + IDENTITY_SERVER_THUMBPRINT.
 * GET {IDENTITY_ENDPOINT}?api-version=2019-07-01-preview&resource=… with header `secret: {IDENTITY_HEADER}`. The
 * identity is chosen by the application manifest: @azure/identity refuses a client id or resource id here.
 */
export const serviceFabric: IdentitySource = {
  id: 'serviceFabric',
  detect: (s) => !!(s.platform.identityEndpoint && s.platform.identityHeaderSet && s.platform.identityServerThumbprintSet),
  endpoint: (s) => hostPort(s.platform.identityEndpoint ?? '') ?? 'IDENTITY_ENDPOINT',
  request(s, audience) {
    const header = s.platform.identityHeader();
    if (!s.platform.identityEndpoint || !header) return undefined;
    const url = new URL(s.platform.identityEndpoint);
    url.searchParams.set('api-version', '2019-07-01-preview');
    url.searchParams.set('resource', resourceOf(audience));
    return { url, method: 'GET', headers: { secret: header } };
  },
  hostKind: () => 'serviceFabric',
  variables: (s) => ({
    IDENTITY_ENDPOINT: setOrAbsent(s.platform.identityEndpoint),
    IDENTITY_HEADER: setOrAbsent(s.platform.identityHeaderSet),
    IDENTITY_SERVER_THUMBPRINT: setOrAbsent(s.platform.identityServerThumbprintSet),
  }),
};
