'use strict';
/**
 * Loaded into the service process with `node --require` (NODE_OPTIONS). Maps the real Azure host names of the
 * simulated world to 127.0.0.1 so the unmodified SDKs keep their host-name checks (Key Vault's challenge-resource
 * verification, TLS SAN matching, Storage's account-from-host parsing) while talking to loopback servers.
 *
 * - every host of hosts.cjs (`<label>.<suffix>` and the exact hosts: ARM, Entra, Graph) → 127.0.0.1
 * - a host whose first label starts with `nxdomain` → the ENOTFOUND error getaddrinfo gives for a name that does
 *   not exist (how a mistyped or deleted vault/account really fails)
 * - anything else → the real resolver.
 *
 * Both node:http(s) and global fetch (undici) resolve through `dns.lookup`, which net/tls look up on the module
 * object at connect time, so replacing the property is enough.
 */
const dns = require('node:dns');

const { SUFFIXES, EXACT, DNS_ONLY_PREFIXES } = require('./hosts.cjs');

function normalize(hostname) {
  return String(hostname).toLowerCase().replace(/\.$/, '');
}

function isNxdomain(host) {
  return host.split('.')[0].startsWith('nxdomain');
}

function isSimulated(host) {
  return EXACT.includes(host) || DNS_ONLY_PREFIXES.some((p) => host.startsWith(p)) || SUFFIXES.some((s) => host.endsWith(`.${s}`));
}

/** The same shape libuv's getaddrinfo failure has (EAI_NONAME is errno -3008 on Linux and macOS). */
function notFound(hostname) {
  const err = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
  err.errno = -3008;
  err.code = 'ENOTFOUND';
  err.syscall = 'getaddrinfo';
  err.hostname = hostname;
  return err;
}

function normalizeOptions(options) {
  if (typeof options === 'number') return { family: options };
  return options || {};
}

const realLookup = dns.lookup;

function lookup(hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  const opts = normalizeOptions(options);
  const host = normalize(hostname);
  if (isNxdomain(host)) {
    process.nextTick(callback, notFound(hostname));
    return {};
  }
  if (isSimulated(host)) {
    // Only IPv4 loopback is served; an IPv6-only request gets the same answer rather than a dead address.
    if (opts.all) process.nextTick(callback, null, [{ address: '127.0.0.1', family: 4 }]);
    else process.nextTick(callback, null, '127.0.0.1', 4);
    return {};
  }
  return realLookup.call(dns, hostname, options, callback);
}

dns.lookup = lookup;

const realPromiseLookup = dns.promises.lookup;
async function promiseLookup(hostname, options) {
  const opts = normalizeOptions(options);
  const host = normalize(hostname);
  if (isNxdomain(host)) throw notFound(hostname);
  if (isSimulated(host)) return opts.all ? [{ address: '127.0.0.1', family: 4 }] : { address: '127.0.0.1', family: 4 };
  return realPromiseLookup.call(dns.promises, hostname, options);
}
dns.promises.lookup = promiseLookup;
