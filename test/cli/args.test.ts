import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { knownFlags, parseArgs } from '../../src/cli/args.ts';
import { closest, editDistance } from '../../src/cli/suggest.ts';
import { ConfigError } from '../../src/errors.ts';

const none = { switches: [] };

describe('parseArgs', () => {
  it('maps setting flags to config keys', () => {
    const parsed = parseArgs(['--publish-interval-seconds', '1', '--port=0'], none);
    expect(parsed).toEqual({ config: { PUBLISH_INTERVAL_SECONDS: '1', PORT: '0' }, flags: {}, args: [] });
  });

  it('collects the words of a command that takes some, wherever they are', () => {
    const parsed = parseArgs(['a.yaml', '--dry-run', 'b.yaml', '--port', '0'], { switches: ['dry-run'], args: 'FILE…' });
    expect(parsed).toEqual({ config: { PORT: '0' }, flags: { 'dry-run': true }, args: ['a.yaml', 'b.yaml'] });
  });

  it('separates the command’s own flags and switches', () => {
    const parsed = parseArgs(['--dry-run', '--interval', '5', '--config', 'c.json'], { switches: ['dry-run'], options: { interval: 'S' } });
    expect(parsed.flags).toEqual({ 'dry-run': true, interval: '5', config: 'c.json' });
  });

  it('rejects a flag without its value and a stray argument', () => {
    expect(() => parseArgs(['--port'], none)).toThrow(ConfigError);
    expect(() => parseArgs(['extra'], none)).toThrow(/unexpected argument 'extra'/);
  });

  it('refuses an unknown flag, naming the closest known one', () => {
    expect(() => parseArgs(['--log-levl', 'debug'], none)).toThrow('unknown flag --log-levl; did you mean --log-level?');
    expect(() => parseArgs(['--intervall', '5'], { switches: [], options: { interval: 'S' } })).toThrow(/did you mean --interval\?/);
    expect(() => parseArgs(['--bogus-flag', '1'], none)).toThrow('unknown flag --bogus-flag; see --help for the flags it takes');
    // Another command's flag is not this one's.
    expect(() => parseArgs(['--days', '3'], none)).toThrow(/unknown flag --days/);
  });

  it('accepts every flag it lists as known, and refuses any other name', () => {
    const spec = { switches: ['verbose'], options: { days: 'N' } };
    const known = knownFlags(spec);
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z-]{0,20}$/), (name) => {
        const attempt = () => parseArgs([`--${name}=1`], spec);
        if (known.includes(name)) expect(attempt).not.toThrow(/unknown flag/);
        else expect(attempt).toThrow(/unknown flag/);
      }),
    );
  });
});

describe('closest', () => {
  it('suggests a near name and nothing for a far one', () => {
    expect(closest('wroker', ['run', 'worker', 'migrate'])).toBe('worker');
    expect(closest('migrat', ['run', 'worker', 'migrate'])).toBe('migrate');
    expect(closest('deploy', ['run', 'worker', 'migrate'])).toBeUndefined();
  });

  it('edit distance is a metric: zero only for equal strings, symmetric, triangle inequality', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b, c) => {
        expect(editDistance(a, b) === 0).toBe(a === b);
        expect(editDistance(a, b)).toBe(editDistance(b, a));
        expect(editDistance(a, c)).toBeLessThanOrEqual(editDistance(a, b) + editDistance(b, c));
        expect(editDistance(a, b)).toBeLessThanOrEqual(Math.max(a.length, b.length));
      }),
    );
  });
});
