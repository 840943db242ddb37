import { loadConfig, readConfigFile, type Config, type ConfigSource } from '../config/index.ts';

/**
 * The config of one CLI invocation: the `--config` file, then the environment, then the setting
 * flags (`--port 0`), then `extra` (a command's own flags mapped to settings); `--verbose` means debug logs.
 */
export function configFromCli(overrides: ConfigSource, flags: Record<string, string | true>, extra: ConfigSource = {}): Config {
  const file = typeof flags.config === 'string' ? readConfigFile(flags.config) : undefined;
  const verbose: ConfigSource = flags.verbose ? { LOG_LEVEL: 'debug' } : {};
  return loadConfig({ env: process.env, file, overrides: { ...overrides, ...extra, ...verbose } });
}
