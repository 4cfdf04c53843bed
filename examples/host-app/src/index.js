// @ts-check
'use strict';
/**
 * The workload: an existing Node.js Functions app (programming model v4) with its own functions. Two lines add
 * Identity Doctor, which then runs as this app's own managed identity (system-assigned included) and answers under
 * /api/identity-doctor/… — its routes and function names carry the prefix, so they never collide with the app's.
 */
const { app } = require('@azure/functions');
const { registerIdentityDoctor } = require('identity-doctor');

// The app's own function. Its route would not collide even if it were called "diagnose".
app.http('orders', {
  route: 'orders',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: async () => ({ jsonBody: { orders: [] } }),
});

// Reads DIAGNOSE_TARGETS, DIAGNOSE_WATCH_SCHEDULE, APPLICATIONINSIGHTS_CONNECTION_STRING, … from this app's settings.
registerIdentityDoctor({ routePrefix: 'identity-doctor' });
