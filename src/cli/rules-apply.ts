import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { ConfigSource } from '../config/index.ts';
import { ValidationError } from '../errors.ts';
import { RULE_ACTOR_PREFIX } from '../runtime/alerts/rule-actors.ts';
import { createLogger } from '../runtime/logger.ts';
import { parseRulesFile, type FileRule } from '../rules-file/parse-rules.ts';
import { readPlainYaml } from '../rules-file/plain-yaml.ts';
import { diffRules, formatDiff, type RulesDiff } from '../rules-file/rules-diff.ts';
import { openStore } from '../storage/open-store.ts';
import type { Store } from '../storage/store.ts';
import { EXIT } from './exit.ts';
import { configFromCli } from './load-config.ts';

/**
 * The YAML parser. This module is loaded only by `vigil rules apply`, so no other command pays for
 * it at start-up; a static import also resolves the same way in the bundled CLI.
 */
const yamlParse = async (text: string): Promise<unknown> => parseYaml(text) as unknown;

/** JSON text parsed as JSON; flow-style YAML that merely looks like JSON falls back to the YAML parser. */
async function jsonOrYaml(text: string): Promise<unknown> {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return yamlParse(text);
  }
}

/** The rules of a rules file (YAML or JSON: JSON is YAML too); a ValidationError naming the field when it is not one. */
export async function readRulesFile(path: string): Promise<FileRule[]> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ValidationError([{ path: 'FILE', message: `cannot read '${path}': ${(error as Error).message}` }]);
  }
  let doc: unknown;
  try {
    // JSON.parse when it is JSON, the plain-style reader when it is plain block YAML: the full YAML
    // parser takes about 30 s of CPU and 1.5 GB on a file of 100k rules (bench/rules-apply.ts).
    const trimmed = text.trimStart();
    doc = trimmed.startsWith('{') || trimmed.startsWith('[') ? await jsonOrYaml(text) : (readPlainYaml(text) ?? (await yamlParse(text)));
  } catch (error) {
    throw new ValidationError([{ path: 'FILE', message: `'${path}' is neither YAML nor JSON: ${(error as Error).message.split('\n')[0]}` }]);
  }
  return parseRulesFile(doc);
}

/**
 * Drops the saved state of the rules to delete, then makes the store hold the file's rules in one
 * transaction. In that order, a failure between the two leaves rules that a second run deletes,
 * never saved states that no run would find again.
 */
async function applyDiff(store: Store, diff: RulesDiff): Promise<void> {
  await store.snapshots.deleteMany(diff.delete.map((rule) => `${RULE_ACTOR_PREFIX}${rule.id}`));
  await store.rules.applyChanges({
    create: diff.create,
    update: diff.update.map(({ rule: { id, ...patch } }) => ({ id, patch })),
    delete: diff.delete.map((rule) => rule.id),
  });
}

/**
 * `vigil rules apply FILE [--dry-run]`: syncs the stored rules to a rules file (the `rules:` list of
 * the `vigil test rules` format), so rules can live in version control. Prints the diff; `--dry-run`
 * changes nothing. Running instances pick the changes up at their next interval cycle.
 */
export async function rulesCommand(overrides: ConfigSource, flags: Record<string, string | true>, args: string[]): Promise<number> {
  const [action, file, ...extra] = args;
  if (action !== 'apply') throw new ValidationError([{ path: 'command', message: `unknown rules command '${action ?? ''}'; use: vigil rules apply FILE [--dry-run]` }]);
  if (!file || extra.length > 0) throw new ValidationError([{ path: 'FILE', message: 'give exactly one rules file: vigil rules apply FILE [--dry-run]' }]);
  let wanted: FileRule[];
  try {
    wanted = await readRulesFile(file);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    // Every problem of the file at once, each naming its field, so one edit fixes them all.
    for (const issue of error.issues) process.stderr.write(`vigil: ${file}: ${issue.path}: ${issue.message}\n`);
    return EXIT.badInput;
  }
  const config = configFromCli(overrides, flags);
  const store = openStore(config.database, createLogger(config.logLevel));
  try {
    await store.migrate();
    const diff = diffRules(await store.rules.list(), wanted);
    process.stdout.write(formatDiff(diff));
    if (flags['dry-run']) {
      process.stdout.write('dry run: nothing changed\n');
      return EXIT.ok;
    }
    await applyDiff(store, diff);
    process.stdout.write(`applied ${file}: ${wanted.length} rules stored\n`);
    return EXIT.ok;
  } finally {
    await store.close();
  }
}
