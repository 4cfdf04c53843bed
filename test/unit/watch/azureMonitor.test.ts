import { metrics } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

/**
 * The production path without a network: the distro module is replaced by a recording fake, so what is asserted is
 * when it is loaded, how often it is started and with what — and that a host's own OpenTelemetry is left alone.
 */
const distro = { loads: 0, useAzureMonitor: jest.fn() };
jest.mock('@azure/monitor-opentelemetry', () => {
  distro.loads++;
  return { useAzureMonitor: distro.useAzureMonitor };
});

const CONNECTION = 'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://example.invalid/';

function freshModules() {
  let mod!: typeof import('../../../src/watch/azureMonitor');
  let register!: typeof import('../../../src/register');
  jest.isolateModules(() => {
    register = require('../../../src/register');
    mod = require('../../../src/watch/azureMonitor');
  });
  return { mod, register };
}

beforeEach(() => {
  distro.loads = 0;
  distro.useAzureMonitor.mockReset();
  metrics.disable();
  logs.disable();
});

afterAll(() => {
  metrics.disable();
  logs.disable();
});

describe('the Azure Monitor distro', () => {
  it('is not loaded when the package is imported (cold start does not pay for it)', () => {
    const { register } = freshModules();
    expect(typeof register.registerIdentityDoctor).toBe('function');
    expect(distro.loads).toBe(0);
  });

  it('is started once, on the first run, with the connection string and none of its auto-instrumentation', async () => {
    const { mod } = freshModules();
    await mod.azureMonitorProviders(CONNECTION);
    await mod.azureMonitorProviders(CONNECTION);
    expect(distro.useAzureMonitor).toHaveBeenCalledTimes(1);
    const options = distro.useAzureMonitor.mock.calls[0][0];
    expect(options.azureMonitorExporterOptions).toEqual({ connectionString: CONNECTION });
    expect(Object.values(options.instrumentationOptions).every((i) => (i as { enabled: boolean }).enabled === false)).toBe(true);
    expect(options).toMatchObject({ enableLiveMetrics: false, enablePerformanceCounters: false });
  });

  it('is not started when the host app already registered an OpenTelemetry SDK: the host keeps its providers', async () => {
    const hostProvider = new MeterProvider();
    metrics.setGlobalMeterProvider(hostProvider);
    const { mod } = freshModules();
    const providers = await mod.azureMonitorProviders(CONNECTION);
    expect(distro.useAzureMonitor).not.toHaveBeenCalled();
    expect(providers.meterProvider).toBe(hostProvider);
    await hostProvider.shutdown();
  });

  it('is tried again on the next run when starting it failed', async () => {
    const { mod } = freshModules();
    distro.useAzureMonitor.mockImplementationOnce(() => {
      throw new Error('exporter refused the connection string');
    });
    await expect(mod.azureMonitorProviders(CONNECTION)).rejects.toThrow('exporter refused');
    await mod.azureMonitorProviders(CONNECTION);
    expect(distro.useAzureMonitor).toHaveBeenCalledTimes(2);
  });
});
