import type { HttpHandler, HttpMethod } from '@azure/functions';
import { diagnoseHandler } from './functions/diagnose';

/**
 * The one route table. index.ts registers it with app.http (so `func start` and Azure serve it); server.ts serves the
 * same handlers on plain node:http (Core Tools cannot be installed everywhere). Routes are as the host serves them,
 * under /api. One line per route.
 */
export interface Route {
  name: string;
  route: string;
  methods: HttpMethod[];
  authLevel: 'anonymous' | 'function' | 'admin';
  handler: HttpHandler;
}

export const ROUTES: Route[] = [
  { name: 'diagnose', route: 'diagnose', methods: ['GET', 'POST'], authLevel: 'function', handler: (req, ctx) => diagnoseHandler(req, ctx) },
  // [routes: health]
  // [routes: openapi]
];
