import { createHash, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import type { HttpResponseInit } from '@azure/functions';
import { ConfigError, type ApiKeySource } from '../config';
import type { Route } from '../routes';
import { problem } from './problem';

/**
 * Off Functions nothing checks a function key, so the server (container image, `npm run serve`) checks its own:
 * DIAGNOSE_API_KEY or DIAGNOSE_API_KEY_FILE, accepted where Azure accepts a function key — the `x-functions-key`
 * header or `?code=` — on every route that is not anonymous (/api/diagnose). Health routes and the OpenAPI document
 * stay anonymous, as on Functions. Without a key the server may only listen on loopback.
 */

export const MIN_KEY_LENGTH = 16;

export interface ApiKeyGate {
  /** The setting the key came from, for the start-up line (never the key). */
  readonly setting: ApiKeySource['setting'];
  /** undefined when the request may proceed; else a 401 problem+json. */
  deny(route: Pick<Route, 'authLevel'>, presented: { header?: string; code?: string | null }): HttpResponseInit | undefined;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Reads the key (from its file, if so configured). Throws ConfigError naming the setting when it is unusable. */
export function createApiKeyGate(source: ApiKeySource): ApiKeyGate {
  let key: string;
  if (source.setting === 'DIAGNOSE_API_KEY') key = source.value();
  else {
    try {
      // A mounted secret file usually ends with a newline the operator did not mean as part of the key.
      key = fs.readFileSync(source.file, 'utf8').trim();
    } catch (err) {
      throw new ConfigError([{ setting: 'DIAGNOSE_API_KEY_FILE', expected: `a readable file holding the key (${(err as { code?: string }).code ?? 'unreadable'}: ${source.file})` }]);
    }
  }
  if (key.length < MIN_KEY_LENGTH) {
    throw new ConfigError([{ setting: source.setting, expected: `a key of at least ${MIN_KEY_LENGTH} characters (e.g. openssl rand -base64 32)` }]);
  }
  // Compare fixed-length digests: timingSafeEqual needs equal lengths, and the key's length must not leak either.
  const expected = digest(key);
  return {
    setting: source.setting,
    deny(route, presented) {
      if (route.authLevel === 'anonymous') return undefined;
      const given = presented.header ?? presented.code ?? undefined;
      if (given !== undefined && timingSafeEqual(digest(given), expected)) return undefined;
      return problem(
        401,
        'Unauthorized',
        given === undefined
          ? 'This route needs the key: send it in the x-functions-key header or as ?code=.'
          : 'The key sent (x-functions-key header or ?code=) is not the configured key.',
      );
    },
  };
}

/** 127.0.0.0/8, ::1 and localhost: only this machine can connect. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127(\.\d{1,3}){3}$/.test(h);
}

/**
 * What the server may do with these settings: a gate when a key is configured; none on loopback; a refusal (one line,
 * saying what to set) on any other address without a key — there would be nothing between the network and a diagnose.
 */
export function serverKeyPolicy(host: string, apiKey: ApiKeySource | undefined): { ok: true; gate?: ApiKeyGate } | { ok: false; reason: string } {
  if (apiKey) return { ok: true, gate: createApiKeyGate(apiKey) };
  if (isLoopback(host)) return { ok: true };
  return {
    ok: false,
    reason: `refusing to listen on HOST=${host} without a key: set DIAGNOSE_API_KEY or DIAGNOSE_API_KEY_FILE (or HOST=127.0.0.1 for this machine only)`,
  };
}
