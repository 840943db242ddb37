import type { ConfigSource } from '../config/index.ts';
import { configFromCli } from './load-config.ts';
import { createRuntime } from '../create-runtime.ts';
import { EXIT } from './exit.ts';
import { onShutdownSignal } from './signals.ts';

/** `vigil run`: everything, on the configured adapters, until SIGINT/SIGTERM. */
export async function runCommand(overrides: ConfigSource, flags: Record<string, string | true>): Promise<number> {
  const config = configFromCli(overrides, flags);
  const runtime = createRuntime({ config });
  // The handler is in place before the runtime starts: a SIGTERM sent by whoever read a line saying
  // Vigil runs (the JSON `vigil listening`, logged while starting, or the plain line below) is a
  // graceful stop, never the default action of a signal nobody handles yet. During the start, the
  // stop waits for it to end.
  let starting: Promise<unknown> = Promise.resolve();
  const stopped = new Promise<number>((resolve) => {
    onShutdownSignal(async (signal) => {
      runtime.logger.info({ signal }, 'shutdown requested');
      await starting.catch(() => undefined);
      // The runtime's shutdown budget bounds the stop: what still runs at its end is given up.
      try {
        await runtime.stop();
        resolve(EXIT.ok);
      } catch (error) {
        runtime.logger.error({ err: error }, 'stop failed');
        resolve(EXIT.failed);
      }
    });
  });
  let url: string | undefined;
  try {
    ({ url } = await (starting = runtime.start()));
  } catch (error) {
    // What did start is stopped (actors persisted, store closed) before the error is reported.
    await runtime.stop();
    throw error;
  }
  // One plain line for a person at a terminal; the JSON log line says the same for machines.
  process.stderr.write(`vigil: running on ${url} (dashboard ${url}/); Ctrl-C stops it\n`);
  return stopped;
}
