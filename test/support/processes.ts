import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** One row of the process table. */
interface ProcessRow {
  pid: number;
  ppid: number;
  args: string;
}

function processTable(): ProcessRow[] {
  return execFileSync('ps', ['-A', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const [pid, ppid, ...args] = line.trim().split(/\s+/);
      return { pid: Number(pid), ppid: Number(ppid), args: args.join(' ') };
    });
}

/** The processes under `pid` (children, grandchildren…), each before its own children, with their command lines. */
export function processesUnder(pid: number): ProcessRow[] {
  const table = processTable();
  const below: ProcessRow[] = [];
  const visit = (parent: number): void => {
    for (const row of table.filter((each) => each.ppid === parent)) {
      below.push(row);
      visit(row.pid);
    }
  };
  visit(pid);
  return below;
}

/** The ids of the processes directly under `pid`. */
export const childrenOf = (pid: number): number[] => processTable().filter((row) => row.ppid === pid).map((row) => row.pid);

/** True while a process with this id exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * kill -9 of `pid` and of every process under it. A SIGKILL does not travel down (a launcher's child
 * would live on), so the deepest processes go first and `pid` last.
 */
export function killTree(pid: number): void {
  for (const id of [...processesUnder(pid).map((row) => row.pid).reverse(), pid]) {
    try {
      process.kill(id, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}

/** A command started by a test, its stdout and stderr collected. */
export interface Started {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

/** Starts `command args` in `cwd` with `env` added to a clean environment (PATH and HOME only). */
export function startCommand(command: string, args: string[], cwd: string, env: Record<string, string>): Started {
  const child = spawn(command, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, output: () => out, exited };
}
