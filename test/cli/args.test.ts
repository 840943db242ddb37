import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/args.ts';
import { ConfigError } from '../../src/errors.ts';

describe('parseArgs', () => {
  it('maps setting flags to config keys and keeps the command', () => {
    const parsed = parseArgs(['run', '--publish-interval-seconds', '1', '--port=0'], new Set());
    expect(parsed).toEqual({ command: 'run', config: { PUBLISH_INTERVAL_SECONDS: '1', PORT: '0' }, flags: {} });
  });

  it('separates the command’s own flags and switches', () => {
    const parsed = parseArgs(['worker', '--dry-run', '--interval', '5', '--config', 'c.json'], new Set(['dry-run']));
    expect(parsed.flags).toEqual({ 'dry-run': true, interval: '5', config: 'c.json' });
  });

  it('defaults to run', () => {
    expect(parseArgs([], new Set()).command).toBe('run');
  });

  it('rejects a flag without its value and a stray argument', () => {
    expect(() => parseArgs(['run', '--port'], new Set())).toThrow(ConfigError);
    expect(() => parseArgs(['run', 'extra'], new Set())).toThrow(/unexpected argument 'extra'/);
  });
});
