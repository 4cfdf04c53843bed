/**
 * Probe-side helpers of the AMQP kinds (loaded with their probes, not with the registry).
 */
export { amqpClientOptions } from './messaging';

/** Close an SDK client without letting a hung close outlive the probe (the connection is ours alone). */
export async function closeQuietly(client: { close(): Promise<void> }, ms = 2_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.close().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref?.();
    }),
  ]);
  if (timer) clearTimeout(timer);
}
