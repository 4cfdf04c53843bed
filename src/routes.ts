import type { HttpHandler, HttpMethod } from '@azure/functions';
import { getSettings, type Settings } from './config';
import { diagnoseHandler } from './functions/diagnose';
import { createHealthHandler, healthLiveHandler } from './functions/health';
import { openapiHandler } from './functions/openapi';

/**
 * The one route table. index.ts registers it with app.http (so `func start` and Azure serve it); server.ts serves the
 * same handlers on plain node:http (Core Tools cannot be installed everywhere). Routes are as the host serves them,
 * under /api. `createRoutes` takes where settings come from, so an embedding app can pass its own; one line per route.
 */
export interface Route {
  name: string;
  route: string;
  methods: HttpMethod[];
  authLevel: 'anonymous' | 'function' | 'admin';
  handler: HttpHandler;
}

export function createRoutes(settings: () => Settings = getSettings): Route[] {
  return [
    { name: 'diagnose', route: 'diagnose', methods: ['GET', 'POST'], authLevel: 'function', handler: (req, ctx) => diagnoseHandler(req, ctx, settings()) },
    { name: 'health', route: 'health', methods: ['GET'], authLevel: 'anonymous', handler: createHealthHandler(settings) },
    { name: 'healthLive', route: 'health/live', methods: ['GET'], authLevel: 'anonymous', handler: healthLiveHandler },
    { name: 'openapi', route: 'openapi.json', methods: ['GET'], authLevel: 'anonymous', handler: openapiHandler },
  ];
}

export const ROUTES: Route[] = createRoutes();
