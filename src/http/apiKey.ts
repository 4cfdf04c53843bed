import { createHash, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import type { HttpResponseInit } from '@azure/functions';
import { ConfigError, type ApiKeySource, type Settings } from '../config';
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
 * Start-up refusal: a HOST other than loopback without a key — nothing would stand between the network and a
 * diagnose. A ConfigError (exit 2, HOST named) whose message is the one line to print.
 */
export class StartupRefusal extends ConfigError {
  constructor(host: string) {
    const reason = `refusing to listen on HOST=${host} without a key: set DIAGNOSE_API_KEY or DIAGNOSE_API_KEY_FILE (or HOST=127.0.0.1 for this machine only)`;
    super([{ setting: 'HOST', expected: reason }]);
    this.message = `identity-doctor: ${reason}`;
  }
}

const gates = new WeakMap<Settings, ApiKeyGate | null>();

/** The key check these settings configure (the key file read once), or undefined when none is. Throws ConfigError. */
export function keyGateFor(settings: Settings): ApiKeyGate | undefined {
  let gate = gates.get(settings);
  if (gate === undefined) {
    gate = settings.apiKey ? createApiKeyGate(settings.apiKey) : null;
    gates.set(settings, gate);
  }
  return gate ?? undefined;
}

/** At start-up: throws StartupRefusal off loopback without a key, ConfigError when the key is unusable. */
export function assertMayListen(settings: Settings): void {
  if (!settings.apiKey && !isLoopback(settings.server.host)) throw new StartupRefusal(settings.server.host);
  keyGateFor(settings);
}
