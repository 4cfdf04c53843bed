import type { Platform } from '../config';

/**
 * Which proxy the Azure SDK pipeline will use for a URL — decided exactly as @typespec/ts-http-runtime's proxyPolicy
 * decides it: HTTPS_PROXY, else ALL_PROXY, else HTTP_PROXY (upper case first), for http and https alike; bypassed
 * only when NO_PROXY lists the host exactly or a `.suffix` of it. A proxy that captures the link-local identity
 * endpoint is a classic cause of "the SDK says network error".
 */
export interface ProxyUse {
  /** The proxy URL with any credentials redacted. */
  url: string;
  bypassed: boolean;
  /** Where the proxy setting came from. */
  source: 'HTTPS_PROXY' | 'ALL_PROXY' | 'HTTP_PROXY';
  /** For our own proxied probe only; never reported. */
  target: URL;
}

export function proxyFor(url: string, proxy: Platform['proxy']): ProxyUse | undefined {
  const [source, raw] =
    proxy.httpsProxy !== undefined
      ? (['HTTPS_PROXY', proxy.httpsProxy] as const)
      : proxy.allProxy !== undefined
        ? (['ALL_PROXY', proxy.allProxy] as const)
        : proxy.httpProxy !== undefined
          ? (['HTTP_PROXY', proxy.httpProxy] as const)
          : [undefined, undefined];
  if (!source || !raw) return undefined;
  let target: URL;
  try {
    target = new URL(raw);
  } catch {
    return undefined;
  }
  const host = new URL(url).hostname;
  const patterns = (proxy.noProxy ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  const bypassed = patterns.some((p) => (p.startsWith('.') ? host.endsWith(p) || host === p.slice(1) : host === p));
  return { url: redactProxyUrl(target), bypassed, source, target };
}

/** The proxy URL without its credentials, in the same form the last-line redactor uses (so redaction is idempotent). */
export function redactProxyUrl(u: URL): string {
  const bare = `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  return u.username || u.password ? bare.replace('//', '//[REDACTED]@') : bare;
}
