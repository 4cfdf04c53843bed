'use strict';
/**
 * A stand-in for the Azure Functions host, for one Node.js app directory: `node functionsHost.cjs <appDir>`.
 *
 * Core Tools cannot be installed here, and without a host `app.http()` registers nothing. The Node worker gives the
 * @azure/functions library a module named `@azure/functions-core`; this shim provides that module the same way (a
 * Module._load hook), so the app's own copy of the library runs its real registration path and hands us what the
 * host would index: each function's metadata (bindings with route, methods, authLevel, schedule) and its handler.
 * Then it serves them like the host:
 *
 * - `/<host.json routePrefix, default api>/<route>` → the HTTP function, keys enforced by authLevel
 *   (`x-functions-key`: FUNCTIONS_HOST_FUNCTION_KEY for `function`, FUNCTIONS_HOST_MASTER_KEY for `admin` and both);
 * - `GET /admin/functions` → the registered functions' metadata (master key);
 * - `POST /admin/functions/<name>` → runs a non-HTTP function (the watch timer) once (master key). The real host
 *   answers 202 at once; this one answers 202 when the run has finished, so a test can read its effects.
 *
 * It prints `listening on http://127.0.0.1:<port>` when ready, and every context.log line.
 */
const fs = require('node:fs');
const http = require('node:http');
const Module = require('node:module');
const path = require('node:path');
const { randomUUID } = require('node:crypto');

const appDir = path.resolve(process.argv[2] || '.');
const functionKey = process.env.FUNCTIONS_HOST_FUNCTION_KEY || 'function-key';
const masterKey = process.env.FUNCTIONS_HOST_MASTER_KEY || 'master-key';

/** @type {{ metadata: any, handler: Function }[]} */
const registered = [];
const coreApi = {
  version: 'shim',
  setProgrammingModel() {},
  getProgrammingModel() {},
  registerHook() {
    return { dispose() {} };
  },
  log(level, category, message) {
    console.log(`[host:${level}] ${message}`);
  },
  registerFunction(metadata, handler) {
    if (registered.some((r) => r.metadata.name.toLowerCase() === metadata.name.toLowerCase())) {
      throw new Error(`A function named "${metadata.name}" is already registered`);
    }
    registered.push({ metadata, handler });
    return { dispose() {} };
  },
};

const originalLoad = Module._load;
Module._load = function load(request, parent, isMain) {
  if (request === '@azure/functions-core') return coreApi;
  return originalLoad.call(this, request, parent, isMain);
};

const manifest = JSON.parse(fs.readFileSync(path.join(appDir, 'package.json'), 'utf8'));
const hostJson = JSON.parse(fs.readFileSync(path.join(appDir, 'host.json'), 'utf8'));
const routePrefix = hostJson.extensions?.http?.routePrefix ?? 'api';
// The app's own copy of the library: request and context objects must come from the module its handlers know.
const appRequire = Module.createRequire(path.join(appDir, 'package.json'));
const { HttpRequest, HttpResponse, InvocationContext } = appRequire('@azure/functions');

// Like the Node worker: an ES module `main` (.mjs, or "type": "module") is imported, anything else required. Its
// `require('@azure/functions-core')` (the bundle's createRequire) still goes through Module._load above.
const mainPath = path.resolve(appDir, manifest.main);
const loaded =
  mainPath.endsWith('.mjs') || manifest.type === 'module'
    ? import(require('node:url').pathToFileURL(mainPath).href)
    : new Promise((resolve) => resolve(require(mainPath)));
loaded.catch((err) => {
  console.error(`the app failed to start: ${err && err.stack ? err.stack : err}`);
  process.exit(3);
});

const triggerOf = (r) => Object.values(r.metadata.bindings).find((b) => b.direction === 'in');

function contextFor(name) {
  return new InvocationContext({
    functionName: name,
    invocationId: randomUUID(),
    logHandler: (level, ...args) => console.log(`[${level}] ${name}: ${args.map(String).join(' ')}`),
  });
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function send(res, init) {
  const response = init instanceof HttpResponse ? init : new HttpResponse(init);
  const headers = {};
  response.headers.forEach((v, k) => (headers[k] = v));
  const body = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, { ...headers, 'content-length': String(body.length) });
  res.end(body);
}

function json(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

function authorized(req, level) {
  const key = req.headers['x-functions-key'];
  if (level === 'anonymous') return true;
  if (level === 'function') return key === functionKey || key === masterKey;
  return key === masterKey;
}

async function handle(req, res) {
  const url = new URL(req.url || '/', 'http://localhost');
  const method = (req.method || 'GET').toUpperCase();
  const body = await readBody(req);

  if (url.pathname === '/admin/functions' || url.pathname.startsWith('/admin/functions/')) {
    if (!authorized(req, 'admin')) return json(res, 401, { error: 'master key required' });
    if (url.pathname === '/admin/functions' && method === 'GET') {
      return json(res, 200, registered.map((r) => ({ name: r.metadata.name, bindings: Object.values(r.metadata.bindings) })));
    }
    const name = decodeURIComponent(url.pathname.slice('/admin/functions/'.length));
    const fn = registered.find((r) => r.metadata.name.toLowerCase() === name.toLowerCase());
    if (!fn || method !== 'POST') return json(res, 404, { error: `no function ${name}` });
    const trigger = triggerOf(fn);
    if (trigger.type !== 'timerTrigger') return json(res, 400, { error: `${name} is not a timer function` });
    const now = new Date();
    const timer = {
      isPastDue: false,
      schedule: { adjustForDST: true },
      scheduleStatus: { last: now.toISOString(), next: now.toISOString(), lastUpdated: now.toISOString() },
    };
    await fn.handler(timer, contextFor(fn.metadata.name));
    res.writeHead(202, { 'content-length': '0' });
    return res.end();
  }

  const prefix = `/${routePrefix}/`;
  const route = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : undefined;
  const fn = registered.find((r) => {
    const t = triggerOf(r);
    return t.type === 'httpTrigger' && (t.route ?? r.metadata.name).toLowerCase() === (route ?? '').toLowerCase();
  });
  if (!fn) return json(res, 404, { error: `no function serves ${url.pathname}` });
  const trigger = triggerOf(fn);
  if (!trigger.methods.map((m) => m.toUpperCase()).includes(method)) return json(res, 405, { error: `${method} not allowed` });
  if (!authorized(req, trigger.authLevel)) return json(res, 401, { error: `${trigger.authLevel} key required` });

  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
  const request = new HttpRequest({
    method,
    url: `http://${req.headers.host || 'localhost'}${req.url || '/'}`,
    headers,
    ...(body.length ? { body: { bytes: body } } : {}),
  });
  return send(res, await fn.handler(request, contextFor(fn.metadata.name)));
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    console.error(`invocation failed: ${err && err.stack ? err.stack : err}`);
    if (!res.headersSent) json(res, 500, { error: 'invocation failed' });
    else res.destroy();
  });
});
loaded.then(() =>
  server.listen(0, '127.0.0.1', () => {
    console.log(`functions: ${registered.map((r) => r.metadata.name).join(', ')}`);
    console.log(`listening on http://127.0.0.1:${server.address().port}`);
  }),
);
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
