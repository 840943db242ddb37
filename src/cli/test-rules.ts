import { readFile } from 'node:fs/promises';
import { ConfigError, ValidationError } from '../errors.ts';
import { runTestFile, type TestOutcome, type TestReport } from '../rules-file/run-tests.ts';
import { parseRuleTestFile } from '../rules-file/test-file.ts';
import { EXIT } from './exit.ts';

const USAGE = 'usage: vigil test rules FILE… [--json]';

/** One failure as a line for a person: test, eval_time, rule, expected vs got. */
const describeFailure = (test: string, f: TestOutcome['failures'][number]) =>
  `FAIL ${test}: at ${f.eval_time}, rule ${f.rule_id}: expected ${JSON.stringify(f.expected)}, got ${JSON.stringify(f.got)}`;

/** Reads and parses one file; a bad file is a ValidationError naming the file and the field. */
async function load(path: string) {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, path);
  }
  try {
    return parseRuleTestFile(text);
  } catch (error) {
    if (error instanceof ValidationError) throw new ValidationError(error.issues.map((issue) => ({ ...issue, path: `${path}: ${issue.path}` })));
    throw error;
  }
}

/**
 * `vigil test rules FILE… [--json]`: unit tests of alert rules on a virtual clock, as `promtool
 * test rules` does. Exit 0 when every test passes, 1 when one fails, 2 on a bad file or usage.
 */
export async function testCommand(args: string[]): Promise<number> {
  const [what, ...rest] = args;
  const json = rest.includes('--json');
  const files = rest.filter((arg) => arg !== '--json');
  const unknown = files.find((arg) => arg.startsWith('--'));
  if (what !== 'rules' || files.length === 0 || unknown) {
    throw new ConfigError(`${unknown ? `unknown flag ${unknown}; ` : what !== 'rules' ? `unknown test '${what ?? ''}'; ` : 'no file given; '}${USAGE}`, unknown ?? 'FILE');
  }
  const parsed = [];
  for (const path of files) parsed.push(await load(path));
  const tests = parsed.flatMap((file) => runTestFile(file));
  const failed = tests.filter((t) => !t.passed).length;
  const report: TestReport = { tests, passed: tests.length - failed, failed };
  if (json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else {
    for (const test of tests) for (const failure of test.failures) process.stdout.write(`${describeFailure(test.name, failure)}\n`);
    process.stdout.write(`${report.passed} passed, ${report.failed} failed\n`);
  }
  return failed > 0 ? EXIT.failed : EXIT.ok;
}
