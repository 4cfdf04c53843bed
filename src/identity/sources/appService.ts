import { hostPort } from '../../wire/transport';
import { resourceOf, setOrAbsent, type IdentitySource } from './types';

/**
 * App Service, Functions and Container Apps (MSAL `AppService`): IDENTITY_ENDPOINT + IDENTITY_HEADER, injected only
 * once an identity is enabled. GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=… with X-IDENTITY-HEADER;
 * a user-assigned identity by client_id or mi_res_id.
 */
export const appService: IdentitySource = {
  id: 'appService',
  detect: (s) => !!(s.platform.identityEndpoint && s.platform.identityHeaderSet),
  endpoint: (s) => hostPort(s.platform.identityEndpoint ?? '') ?? 'IDENTITY_ENDPOINT',
  request(s, audience) {
    const header = s.platform.identityHeader();
    if (!s.platform.identityEndpoint || !header) return undefined;
    const url = new URL(s.platform.identityEndpoint);
    url.searchParams.set('api-version', '2019-08-01');
    url.searchParams.set('resource', resourceOf(audience));
    if (s.clientId) url.searchParams.set('client_id', s.clientId);
    if (s.clientResourceId) url.searchParams.set('mi_res_id', s.clientResourceId);
    return { url, method: 'GET', headers: { 'X-IDENTITY-HEADER': header } };
  },
  hostKind(s) {
    const p = s.platform;
    if (p.containerAppName) return 'containerApps';
    if (p.siteName) return p.functionsRuntime ? 'functions' : 'appService';
    return 'appService';
  },
  variables: (s) => ({ IDENTITY_ENDPOINT: setOrAbsent(s.platform.identityEndpoint), IDENTITY_HEADER: setOrAbsent(s.platform.identityHeaderSet) }),
};
