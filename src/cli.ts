import { parseArgs } from './cli/args.ts';
import { EXIT, reportError } from './cli/exit.ts';
import { cleanupCommand } from './cli/cleanup.ts';
import { migrateCommand } from './cli/migrate.ts';
import { propagateCommand } from './cli/propagate.ts';
import { rulesCommand } from './cli/rules-apply.ts';
import { runCommand } from './cli/run.ts';
import { testCommand } from './cli/test-rules.ts';
import { workerCommand } from './cli/worker.ts';
import type { ConfigSource } from './config.ts';

type Command = { summary: string } & (
  | {
      switches: string[];
      run: (config: ConfigSource, flags: Record<string, string | true>, args: string[]) => Promise<number>;
      /** Takes words before its flags (`vigil rules apply FILE`). */
      positional?: boolean;
    }
  /** A command that takes positional arguments parses them itself. */
  | { main: (args: string[]) => Promise<number> }
);

const COMMANDS: Record<string, Command> = {
  run: { summary: 'run everything (publisher, subscriber, HTTP) until SIGINT/SIGTERM', switches: ['verbose', 'inspect'], run: runCommand },
  worker: { summary: 'run the alert worker alone (--interval S, --dry-run, --config-check)', switches: ['verbose', 'dry-run', 'config-check'], run: workerCommand },
  migrate: { summary: 'apply pending database migrations', switches: ['verbose'], run: migrateCommand },
  propagate: { summary: 'run the event propagator alone (PERIOD_IN_SECONDS, HTTP_POST_ENDPOINT, PAYLOAD_FILE_PATH)', switches: ['verbose'], run: propagateCommand },
  test: { summary: 'test rules FILE… [--json]: run alert rule unit tests on a virtual clock', main: testCommand },
  rules: { summary: 'rules apply FILE [--dry-run]: sync the stored rules to a rules file (YAML or JSON), printing the diff', switches: ['verbose', 'dry-run'], run: rulesCommand, positional: true },
  cleanup: { summary: 'delete what is older than the retention (--days N, default CLEANUP_RETENTION_DAYS)', switches: ['verbose'], run: cleanupCommand },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  vigil ${name.padEnd(10)} ${c.summary}`);
  return `usage: vigil <command> [--config FILE] [--SETTING value…]\n\ncommands:\n${lines.join('\n')}\n\nEvery setting of the README's configuration table is also a flag: PUBLISH_INTERVAL_SECONDS is --publish-interval-seconds.\n`;
}

/** Runs one CLI invocation and resolves with its exit code. */
export async function main(argv: string[]): Promise<number> {
  const name = argv[0] ?? 'run';
  if (name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`vigil: unknown command '${name}'\n${usage()}`);
    return EXIT.badInput;
  }
  try {
    if ('main' in command) return await command.main(argv.slice(1));
    const rest = argv.slice(1);
    const firstFlag = rest.findIndex((word) => word.startsWith('--'));
    const args = command.positional ? rest.splice(0, firstFlag === -1 ? rest.length : firstFlag) : [];
    const { config, flags } = parseArgs([name, ...rest], new Set(command.switches));
    return await command.run(config, flags, args);
  } catch (error) {
    return reportError(error);
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
