import { CONFIG_KEYS, type ConfigKey, type ConfigSource } from '../config.ts';
import { ConfigError } from '../errors.ts';

/** A command line split into its command, config flags (`--publish-interval-seconds 1`) and its own flags. */
export interface ParsedArgs {
  command: string;
  config: ConfigSource;
  /** Flags that are not config keys: `--dry-run`, `--days 7`, `--config file.json`… */
  flags: Record<string, string | true>;
}

const flagToKey = (flag: string): ConfigKey | undefined => {
  const key = flag.replaceAll('-', '_').toUpperCase() as ConfigKey;
  return CONFIG_KEYS.includes(key) ? key : undefined;
};

/**
 * Parses `vigil <command> [--flag value | --flag=value | --switch]…`. `switches` are the command's
 * flags that take no value; every other flag takes one.
 */
export function parseArgs(argv: string[], switches: ReadonlySet<string>): ParsedArgs {
  const [command = 'run', ...rest] = argv;
  const config: ConfigSource = {};
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i]!;
    if (!token.startsWith('--')) throw new ConfigError(`unexpected argument '${token}'; flags look like --name value`, token);
    const [name, inline] = token.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
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
  return { command, config, flags };
}
