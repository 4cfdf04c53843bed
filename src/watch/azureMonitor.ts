import { createNoopMeter, metrics } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { SCOPE_NAME, type TelemetryProviders } from './telemetry';

/**
 * Production telemetry: the standard Azure Monitor OpenTelemetry distro, started on the watch's first run — not at
 * import — so a cold start of the app (or of the host app that embeds us) never pays for loading it, and an app
 * without APPLICATIONINSIGHTS_CONNECTION_STRING never loads it at all.
 */

/** The process-wide OpenTelemetry providers (no-op ones until some SDK registers). */
export function globalProviders(): TelemetryProviders {
  return { meterProvider: metrics.getMeterProvider(), loggerProvider: logs.getLoggerProvider() };
}

/**
 * Whether an OpenTelemetry SDK is already registered in this process — typically a host app that called
 * `useAzureMonitor()` itself. Starting the distro again would replace its providers and cut off its telemetry.
 */
export function hasGlobalOpenTelemetry(): boolean {
  return metrics.getMeterProvider().getMeter(SCOPE_NAME) !== createNoopMeter();
}

let starting: Promise<void> | undefined;

/**
 * Providers that export to Application Insights: the host's own SDK when one is registered, else the distro, started
 * once per process with this connection string — signing in with a managed identity when `entra` is given
 * (APPLICATIONINSIGHTS_AUTHENTICATION_STRING: the component accepts no instrumentation-key-only ingestion). A failed
 * start is retried on the next run.
 */
export async function azureMonitorProviders(connectionString: string, entra?: { clientId?: string }): Promise<TelemetryProviders> {
  if (!starting) {
    starting = hasGlobalOpenTelemetry() ? Promise.resolve() : startDistro(connectionString, entra);
    starting.catch(() => (starting = undefined));
  }
  await starting;
  return globalProviders();
}

async function startDistro(connectionString: string, entra?: { clientId?: string }): Promise<void> {
  const { useAzureMonitor } = await import('@azure/monitor-opentelemetry');
  // The distro does not read APPLICATIONINSIGHTS_AUTHENTICATION_STRING itself (the Functions host does): pass the
  // credential. Its token is for Azure Monitor's ingestion audience only, requested by the exporter.
  const credential = entra ? new (await import('@azure/identity')).ManagedIdentityCredential(entra.clientId ? { clientId: entra.clientId } : {}) : undefined;
  useAzureMonitor({
    azureMonitorExporterOptions: { connectionString, ...(credential ? { credential } : {}) },
    // A guest in the workload's process: send our records, do not start tracing the host's HTTP, Azure SDK or
    // database calls, nor add live metrics and performance counters the host did not ask for.
    instrumentationOptions: {
      http: { enabled: false },
      azureSdk: { enabled: false },
      mongoDb: { enabled: false },
      mySql: { enabled: false },
      postgreSql: { enabled: false },
      redis: { enabled: false },
      redis4: { enabled: false },
    },
    enableLiveMetrics: false,
    enableStandardMetrics: false,
    enablePerformanceCounters: false,
  });
}
