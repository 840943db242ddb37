import { CONFIG_KEYS, type ConfigKey, type ConfigSource } from '../config/index.ts';
import { ConfigError } from '../errors.ts';
import { closest } from './suggest.ts';

/** A command line after its command: config flags (`--publish-interval-seconds 1`) and the command's own flags. */
export interface ParsedArgs {
  config: ConfigSource;
  /** Flags that are not config keys: `--dry-run`, `--days 7`, `--config file.json`… */
  flags: Record<string, string | true>;
  /** The words that are not flags, for a command that takes some (`FlagSpec.args`). */
  args: string[];
}

/** The flags a command accepts besides every setting: its switches (no value) and its options (one value). */
export interface FlagSpec {
  switches: readonly string[];
  options?: Readonly<Record<string, string>>;
  /** The words the command takes besides flags, as its usage shows them (`FILE…`); none when absent. */
  args?: string;
}

/** Flags every command takes: `--config FILE` (a value) and `--help` (a switch). */
export const COMMON_OPTIONS = ['config'] as const;
export const COMMON_SWITCHES = ['help'] as const;

/** `PUBLISH_INTERVAL_SECONDS` → `publish-interval-seconds`. */
export const flagOf = (key: string): string => key.toLowerCase().replaceAll('_', '-');

const flagToKey = (flag: string): ConfigKey | undefined => {
  const key = flag.replaceAll('-', '_').toUpperCase() as ConfigKey;
  return CONFIG_KEYS.includes(key) && flagOf(key) === flag ? key : undefined;
};

/** Every flag name `spec` accepts, settings first. */
export function knownFlags(spec: FlagSpec): string[] {
  return [...CONFIG_KEYS.map(flagOf), ...COMMON_OPTIONS, ...COMMON_SWITCHES, ...spec.switches, ...Object.keys(spec.options ?? {})];
}

function unknownFlag(name: string, spec: FlagSpec): ConfigError {
  const suggestion = closest(name, knownFlags(spec));
  const hint = suggestion ? `did you mean --${suggestion}?` : 'see --help for the flags it takes';
  return new ConfigError(`unknown flag --${name}; ${hint}`, `--${name}`);
}

/**
 * Parses the flags after a command: `--flag value`, `--flag=value` or `--switch`. A flag that is
 * neither a setting nor in `spec` is refused with the closest known flag as a suggestion.
 */
export function parseArgs(rest: readonly string[], spec: FlagSpec): ParsedArgs {
  const switches = new Set<string>([...spec.switches, ...COMMON_SWITCHES]);
  const known = new Set(knownFlags(spec));
  const config: ConfigSource = {};
  const flags: Record<string, string | true> = {};
  const args: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i]!;
    if (!token.startsWith('--') && spec.args) {
      args.push(token);
      continue;
    }
    if (!token.startsWith('--')) throw new ConfigError(`unexpected argument '${token}'; flags look like --name value`, token);
    const [name, inline] = token.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (!known.has(name)) throw unknownFlag(name, spec);
    let value: string | true;
    if (inline !== undefined) value = inline;
    else if (switches.has(name)) value = true;
    else {
      const next = rest[i + 1];
      if (next === undefined || next.startsWith('--')) throw new ConfigError(`--${name} needs a value`, `--${name}`);
      value = next;
      i++;
    }
    const key = flagToKey(name);
    if (key) config[key] = value;
    else flags[name] = value;
  }
  return { config, flags, args };
}

/** Whether a command line asks for help (`--help` or `-h` anywhere): answered before anything is parsed or run. */
export const wantsHelp = (rest: readonly string[]): boolean => rest.some((token) => token === '--help' || token === '-h');
