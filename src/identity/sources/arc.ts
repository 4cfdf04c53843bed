import { constants as fsConstants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { hostPort } from '../../wire/transport';
import { resourceOf, setOrAbsent, type IdentitySource } from './types';

/**
 * Azure Arc-enabled servers (MSAL `AzureArc`): IDENTITY_ENDPOINT + IMDS_ENDPOINT, or the agent's himds binary
 * (then the default endpoint). GET {IDENTITY_ENDPOINT}?api-version=2020-06-01&resource=… with `Metadata: true`; the
 * agent answers 401 with `WWW-Authenticate: Basic realm=<path to a .key file>`, and the client proves it runs on the
 * machine by reading that file (root, or the himds group) and asking again with `Authorization: Basic <content>`.
 */
export const ARC_DEFAULT_ENDPOINT = 'http://127.0.0.1:40342/metadata/identity/oauth2/token';
/** The only directory MSAL accepts the challenge file from (per platform). */
export const ARC_KEY_DIRECTORY: Partial<Record<NodeJS.Platform, string>> = {
  linux: '/var/opt/azcmagent/tokens/',
  win32: `C:\\ProgramData\\AzureConnectedMachineAgent\\Tokens\\`,
};
/** MSAL refuses key files larger than this (AZURE_ARC_SECRET_FILE_MAX_SIZE_BYTES). */
const MAX_KEY_BYTES = 4096;

function endpointOf(s: Parameters<IdentitySource['detect']>[0]): string | undefined {
  if (s.platform.identityEndpoint && s.platform.imdsEndpoint) return s.platform.identityEndpoint;
  return s.platform.arcAgentInstalled ? ARC_DEFAULT_ENDPOINT : undefined;
}

export const arc: IdentitySource = {
  id: 'arc',
  detect: (s) => endpointOf(s) !== undefined,
  endpoint: (s) => hostPort(endpointOf(s) ?? '') ?? 'IDENTITY_ENDPOINT',
  request(s, audience) {
    const endpoint = endpointOf(s);
    if (!endpoint) return undefined;
    // MSAL rewrites localhost to 127.0.0.1 (the agent listens on IPv4 only).
    const url = new URL(endpoint.replace('localhost', '127.0.0.1'));
    url.searchParams.set('api-version', '2020-06-01');
    url.searchParams.set('resource', resourceOf(audience));
    if (s.clientId) url.searchParams.set('client_id', s.clientId);
    if (s.clientResourceId) url.searchParams.set('msi_res_id', s.clientResourceId);
    return { url, method: 'GET', headers: { Metadata: 'true' } };
  },
  hostKind: () => 'arc',
  variables: (s) => ({
    IDENTITY_ENDPOINT: setOrAbsent(s.platform.identityEndpoint),
    IMDS_ENDPOINT: s.platform.imdsEndpoint ?? 'absent',
    ...(s.platform.arcAgentInstalled ? { himds: 'installed' } : {}),
  }),
};

/** What became of the challenge file; never its content. */
export interface KeyFileEvidence {
  /** The realm the agent named (a path on this machine). */
  path?: string;
  expectedDirectory?: string;
  problem?: 'no_challenge' | 'unsupported_challenge' | 'outside_directory' | 'not_a_key_file' | 'unreadable' | 'too_large';
  /** The system's code when the file could not be read (EACCES, ENOENT, …). */
  code?: string;
}

export type ChallengeAnswer = { ok: true; authorization: string; keyFile: KeyFileEvidence } | { ok: false; keyFile: KeyFileEvidence };

/**
 * MSAL's checks on the 401 challenge, in its order, then the read. The content becomes the Authorization header for
 * the one retry and nothing else.
 */
export async function answerArcChallenge(wwwAuthenticate: string | undefined): Promise<ChallengeAnswer> {
  if (!wwwAuthenticate) return { ok: false, keyFile: { problem: 'no_challenge' } };
  if (!wwwAuthenticate.includes('Basic realm=')) return { ok: false, keyFile: { problem: 'unsupported_challenge' } };
  const file = wwwAuthenticate.split('Basic realm=')[1]!.trim();
  const expectedDirectory = ARC_KEY_DIRECTORY[process.platform];
  const keyFile: KeyFileEvidence = { path: file.slice(0, 300), ...(expectedDirectory ? { expectedDirectory } : {}) };
  const name = path.basename(file);
  if (!name.endsWith('.key')) return { ok: false, keyFile: { ...keyFile, problem: 'not_a_key_file' } };
  if (!expectedDirectory || expectedDirectory + name !== file) return { ok: false, keyFile: { ...keyFile, problem: 'outside_directory' } };
  try {
    const handle = await open(file, fsConstants.O_RDONLY);
    try {
      const { size } = await handle.stat();
      if (size > MAX_KEY_BYTES) return { ok: false, keyFile: { ...keyFile, problem: 'too_large' } };
      const secret = (await handle.readFile('utf8')).trim();
      return { ok: true, authorization: `Basic ${secret}`, keyFile };
    } finally {
      await handle.close();
    }
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return { ok: false, keyFile: { ...keyFile, problem: 'unreadable', ...(typeof code === 'string' ? { code } : {}) } };
  }
}
