import { eventually } from '../e2e/cli.ts';
import { alive, killTree, processesUnder, startCommand } from './processes.ts';

/** What happened when a launcher running `vigil run` was sent SIGTERM. */
export interface LauncherStop {
  /** The launcher's exit code. */
  code: number | null;
  /** The processes that were under the launcher (its shell, Vigil…), with their command lines. */
  below: { pid: number; args: string }[];
  /** From the SIGTERM until the launcher and every process under it were gone. */
  ms: number;
  output: string;
}

/** The base URL of the first `vigil listening` JSON line of `output`, if any. */
function listeningUrl(output: string): string | undefined {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg?: unknown; url?: unknown };
    if (entry.msg === 'vigil listening') return String(entry.url);
  }
  return undefined;
}

/**
 * Starts Vigil through a launcher (`npm start`, `npx vigil run`) on a port of its choosing, waits until
 * it is ready, sends SIGTERM to the launcher only, and waits (up to 5 s) until the launcher and every
 * process that was under it are gone.
 */
export async function stopThroughLauncher(command: string, args: string[], cwd: string, env: Record<string, string>): Promise<LauncherStop> {
  const launcher = startCommand(command, args, cwd, { PORT: '0', ...env });
  let below: { pid: number; args: string }[] = [];
  try {
    const url = await eventually(async () => listeningUrl(launcher.output()), 30_000);
    await eventually(async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined), 30_000);
    below = processesUnder(launcher.child.pid!).map(({ pid, args: line }) => ({ pid, args: line }));
    const stopping = Date.now();
    launcher.child.kill('SIGTERM');
    const code = await launcher.exited;
    await eventually(async () => (below.some((row) => alive(row.pid)) ? undefined : true), 5_000, 50);
    const ms = Date.now() - stopping;
    // The last lines may still be in the pipe once the processes are gone.
    await eventually(async () => (launcher.output().includes('"msg":"stopped"') ? true : undefined), 2_000, 50).catch(() => undefined);
    return { code, below, ms, output: launcher.output() };
  } finally {
    // On a failure, nothing is left running.
    for (const pid of [launcher.child.pid!, ...below.map((row) => row.pid)]) if (alive(pid)) killTree(pid);
  }
}
