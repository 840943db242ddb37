import { parseArgs, wantsHelp } from './args.ts';
import { EXIT, reportError } from './exit.ts';
import { governed } from './heap-policy.ts';
import { commandHelp, usage, version, type Command } from './help.ts';
import { closest } from './suggest.ts';

/**
 * A command's code, imported only when it runs: `--help`, `--version` and usage errors answer
 * without loading the runtime (on a loaded machine that is seconds).
 */
const lazy =
  (load: () => Promise<Command['run']>): Command['run'] =>
  async (config, flags, args) =>
    (await load())(config, flags, args);

/** Every command, by the words that name it (`'rules apply'` for a two-word command): adding one is adding an entry. */
const COMMANDS: Record<string, Command> = {
  run: {
    summary: 'run everything (publisher, subscriber, HTTP) until SIGINT/SIGTERM',
    switches: ['verbose', 'inspect'],
    options: { 'inspect-port': 'PORT  serve a Stately inspector bridge on PORT: every viewer, early or late, gets every live actor (INSPECT_PORT)' },
    // Governed from before the runtime's modules load: a young generation they grew would stay grown.
    run: governed(lazy(async () => (await import('./run.ts')).runCommand)),
  },
  worker: {
    summary: 'run the alert worker alone, in interval mode',
    switches: ['verbose', 'dry-run', 'config-check'],
    options: { interval: 'S  evaluate every S seconds (ALERT_INTERVAL_SECONDS)' },
    run: governed(lazy(async () => (await import('./worker.ts')).workerCommand)),
  },
  migrate: { summary: 'apply pending database migrations', switches: ['verbose'], run: lazy(async () => (await import('./migrate.ts')).migrateCommand) },
  propagate: { summary: 'run the event propagator alone (PERIOD_IN_SECONDS, HTTP_POST_ENDPOINT, PAYLOAD_FILE_PATH)', switches: ['verbose'], run: lazy(async () => (await import('./propagate.ts')).propagateCommand) },
  test: {
    summary: 'run alert rule unit tests (test rules FILE…) on a virtual clock',
    switches: ['json'],
    args: 'rules FILE…',
    // test-rules.ts reads its own words and flags.
    run: lazy(async () => {
      const { testCommand } = await import('./test-rules.ts');
      return (_config, flags, args) => testCommand([...args, ...(flags.json ? ['--json'] : [])]);
    }),
  },
  'rules apply': {
    summary: 'sync the stored rules to a rules file (YAML or JSON), printing the diff',
    switches: ['verbose', 'dry-run'],
    args: 'FILE',
    run: lazy(async () => {
      const { rulesCommand } = await import('./rules-apply.ts');
      return (config, flags, args) => rulesCommand(config, flags, ['apply', ...args]);
    }),
  },
  cleanup: {
    summary: 'delete what is older than the retention; prints the counts deleted',
    switches: ['verbose'],
    options: { days: 'N  retention in days (default CLEANUP_RETENTION_DAYS)' },
    run: lazy(async () => (await import('./cleanup.ts')).cleanupCommand),
  },
};

/** The command named by the first one or two words of `argv`, and the rest of it. */
function resolve(argv: readonly string[]): { name: string; command?: Command; rest: readonly string[] } {
  const two = `${argv[0]} ${argv[1]}`;
  if (argv.length >= 2 && COMMANDS[two]) return { name: two, command: COMMANDS[two], rest: argv.slice(2) };
  const name = argv[0]!;
  return { name, command: COMMANDS[name], rest: argv.slice(1) };
}

function unknownCommand(name: string): number {
  const suggestion = closest(name, Object.keys(COMMANDS).map((c) => c.split(' ')[0]!));
  const hint = suggestion ? `did you mean '${suggestion}'?` : "'vigil --help' lists the commands";
  process.stderr.write(`vigil: unknown command '${name}'; ${hint}\n`);
  return EXIT.badInput;
}

/**
 * Runs one CLI invocation and resolves with its exit code. A bare `vigil` prints the help on stderr
 * and exits 2, as a usage error: it used to start the server, so a script relying on that fails
 * loudly rather than succeeding without running anything.
 */
export async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  if (first === undefined) {
    process.stderr.write(usage(COMMANDS));
    return EXIT.badInput;
  }
  if (first === '--version' || first === '-V') {
    process.stdout.write(`vigil ${version()}\n`);
    return EXIT.ok;
  }
  if (first === 'help' && argv[1] !== undefined) return main([...argv.slice(1), '--help']);
  if (first === 'help' || first === '--help' || first === '-h') {
    process.stdout.write(usage(COMMANDS));
    return EXIT.ok;
  }
  if (first.startsWith('-')) {
    process.stderr.write(`vigil: a command comes first (got ${first}); 'vigil --help' lists the commands\n`);
    return EXIT.badInput;
  }
  const { name, command, rest } = resolve(argv);
  if (!command) return unknownCommand(name);
  if (wantsHelp(rest)) {
    process.stdout.write(commandHelp(name, command));
    return EXIT.ok;
  }
  try {
    const { config, flags, args } = parseArgs(rest, command);
    return await command.run(config, flags, args);
  } catch (error) {
    return reportError(error);
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
