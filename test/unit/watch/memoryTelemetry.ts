import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { TelemetryProviders } from '../../../src/watch/telemetry';

/**
 * The real OpenTelemetry SDK with in-memory exporters, shaped like production: delta temporality (what the Azure
 * Monitor exporter asks for), a periodic reader that only exports when flushed (the watch flushes after each run).
 * `drain()` returns what was exported since the last drain as plain data, so it can also cross a process boundary.
 */

export interface MetricPoint {
  scope: string;
  name: string;
  description: string;
  unit: string;
  value: number;
  attributes: Record<string, unknown>;
}

export interface LogEntry {
  scope: string;
  eventName?: string;
  severityText?: string;
  severityNumber?: number;
  body: unknown;
  attributes: Record<string, unknown>;
}

export interface Drained {
  metrics: MetricPoint[];
  logs: LogEntry[];
}

export interface MemoryTelemetry {
  providers: TelemetryProviders;
  drain(): Drained;
  shutdown(): Promise<void>;
}

export function memoryTelemetry(): MemoryTelemetry {
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.DELTA);
  // An interval far beyond any test: only the watch's forceFlush exports.
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const logExporter = new InMemoryLogRecordExporter();
  const loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor(logExporter)] });
  return {
    providers: { meterProvider, loggerProvider },
    drain() {
      const metrics: MetricPoint[] = [];
      for (const rm of metricExporter.getMetrics()) {
        for (const sm of rm.scopeMetrics) {
          for (const m of sm.metrics) {
            for (const dp of m.dataPoints) {
              metrics.push({
                scope: sm.scope.name,
                name: m.descriptor.name,
                description: m.descriptor.description,
                unit: m.descriptor.unit,
                value: dp.value as number,
                attributes: { ...dp.attributes },
              });
            }
          }
        }
      }
      const logs: LogEntry[] = logExporter.getFinishedLogRecords().map((r) => ({
        scope: r.instrumentationScope.name,
        eventName: r.eventName,
        severityText: r.severityText,
        severityNumber: r.severityNumber,
        body: r.body,
        attributes: { ...r.attributes },
      }));
      metricExporter.reset();
      logExporter.reset();
      return { metrics, logs };
    },
    async shutdown() {
      await meterProvider.shutdown();
      await loggerProvider.shutdown();
    },
  };
}
