import type { ConfigSource } from '../config/index.ts';
import { packageRoot } from '../package-root.ts';
import type { FlagSpec } from './args.ts';

/**
 * One `vigil` command: a line of help, its own flags (every command also takes every setting as a
 * flag, `--config FILE` and `--help`), and what it runs. A flag not listed is refused.
 */
export interface Command extends FlagSpec {
  summary: string;
  /** Switches (no value); `SWITCH_HELP` says what the common ones do. */
  switches: readonly string[];
  /** Flags taking one value, with their help: `{ days: 'N  delete what is older than N days' }`. */
  options?: Readonly<Record<string, string>>;
  /** The words besides flags, as usage shows them (`FILE…`); a command without `args` takes none. */
  args?: string;
  run: (config: ConfigSource, flags: Record<string, string | true>, args: string[]) => Promise<number>;
}

/** What the switches shared by several commands do. */
const SWITCH_HELP: Record<string, string> = {
  verbose: 'debug logs (LOG_LEVEL=debug)',
  inspect: 'send every actor to the Stately inspector at ws://localhost:8080 (or --inspect=ws://host:port)',
  'dry-run': 'evaluate once, print what would fire or resolve, change nothing',
  'config-check': 'check the config and the store, then exit (0 ok, 2 not)',
};

const SETTINGS_NOTE =
  "Every setting of the README's configuration table is also a flag: PUBLISH_INTERVAL_SECONDS is --publish-interval-seconds.";

/** `vigil --help`: every command with its summary. */
export function usage(commands: Readonly<Record<string, Command>>): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length)) + 2;
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`);
  return [
    'usage: vigil <command> [--config FILE] [--SETTING value…]',
    '',
    'commands:',
    ...lines,
    '',
    'options:',
    '  --help, -h   help (of a command: vigil <command> --help)',
    '  --version    print the version',
    '',
    SETTINGS_NOTE,
    '',
  ].join('\n');
}

/** `vigil <command> --help`: what it does and every flag of its own. */
export function commandHelp(name: string, command: Command): string {
  const rows: [string, string][] = [
    ...command.switches.map((s): [string, string] => [`--${s}`, SWITCH_HELP[s] ?? '']),
    ...Object.entries(command.options ?? {}).map(([option, help]): [string, string] => {
      const [value, ...text] = help.split('  ');
      return [`--${option} ${value}`, text.join('  ').trim()];
    }),
    ['--config FILE', 'read settings from a JSON file (the environment and flags win)'],
    ['--help, -h', 'this help'],
  ];
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return [`usage: vigil ${name}${command.args ? ` ${command.args}` : ''} [flags]`, '', command.summary, '', 'flags:', ...rows.map(([flag, help]) => `  ${flag.padEnd(width)}${help}`.trimEnd()), '', SETTINGS_NOTE, ''].join('\n');
}

export { PACKAGE_NAME } from '../package-root.ts';

/** Vigil's version, from its package.json (in src/, dist/ or a bundle alike). */
export function version(): string {
  try {
    return packageRoot().version;
  } catch {
    return 'unknown';
  }
}
