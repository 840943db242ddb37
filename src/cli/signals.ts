/** How often a process started by npm checks that its launcher is still there. */
const LAUNCHER_POLL_MS = 250;

/**
 * Runs `stop` once on the first SIGINT or SIGTERM; a second signal exits at once. When npm
 * started this process (`npm start`, `npx vigil`), a SIGTERM sent to npm stops only npm and its
 * shell, and this process would be left running as an orphan; so the death of the launcher
 * (this process handed to another parent) counts as a SIGTERM too.
 */
export function onShutdownSignal(stop: (signal: NodeJS.Signals) => Promise<void>): void {
  let stopping = false;
  let launcherWatch: NodeJS.Timeout | undefined;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    clearInterval(launcherWatch);
    void stop(signal);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => shutdown(signal));
  if (process.env.npm_command === undefined && process.env.npm_lifecycle_event === undefined) return;
  const launcher = process.ppid;
  launcherWatch = setInterval(() => {
    if (process.ppid !== launcher) shutdown('SIGTERM');
  }, LAUNCHER_POLL_MS).unref();
}
