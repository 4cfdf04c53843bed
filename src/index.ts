import { app } from '@azure/functions';
import { getSettings } from './config';
import { ROUTES } from './routes';

// Parse the app settings at start-up: a bad value stops the host with the setting's name, not the first request.
getSettings();

for (const r of ROUTES) {
  app.http(r.name, { route: r.route, methods: r.methods, authLevel: r.authLevel, handler: r.handler });
}
