import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readPlainYaml } from '../../src/rules-file/plain-yaml.ts';

/** What the full parser makes of `text`, or `failed` when it refuses it. */
const full = (text: string): { value: unknown } | 'failed' => {
  try {
    return { value: parse(text) as unknown };
  } catch {
    return 'failed';
  }
};

// Texts the core schema reads as something other than a string, and texts near the edges of the plain style.
const TRICKY = [
  'null', 'Null', 'NULL', '~', 'true', 'True', 'FALSE', 'yes', 'off', '0', '-0', '+5', '007', '0o17', '0o8', '0x1F', '0xg', '1e3', '1.5e-3', '.5',
  '1.', '.inf', '-.Inf', '+.INF', '.NaN', '.nan', '10.0.0.1', '1_000', '12abc', 'a: b', 'a:b', 'a:', 'a #b', 'a#b', '-', '- a', '-a', '?x', '? x',
  ':x', '[a]', '{a}', 'a, b', "it's", '"q"', 'x"y', '', ' lead', 'trail ', '__proto__', '&a', '*a', '!t', '|', '>', '%x', '@x', '`x', 'a\\nb', 'é ü', '#x',
];
const CHARS = [...'abcXYZ019 -:#"\'.,[]{}~!&*|>%@`?\\\t_'];
const scalarText = fc.oneof(fc.constantFrom(...TRICKY), fc.array(fc.constantFrom(...CHARS), { maxLength: 8 }).map((cs) => cs.join('')));

/** A scalar written plain, 'single' or "double" quoted, maybe followed by a comment. */
const scalar = fc
  .tuple(scalarText, fc.constantFrom('plain', 'single', 'double'), fc.constantFrom('', ' # note', '#x', '  #  '))
  .map(([text, style, tail]) => (style === 'plain' ? text : style === 'single' ? `'${text.replaceAll("'", "''")}'` : `"${text}"`) + tail);
const flowList = fc
  .tuple(fc.array(scalar, { maxLength: 3 }), fc.constantFrom(', ', ',', ' , '), fc.constantFrom('', ' ', ' # c'))
  .map(([items, comma, tail]) => `[${items.join(comma)}]${tail}`);
const key = fc.oneof(fc.constantFrom('id', 'name', 'device_id', 'metric', 'threshold', 'channels', 'null', 'true', '__proto__', 'a b', '"q"', 'k-1', '_x'), fc.constant('id'));

interface Item {
  entries: [string, string][];
  dashGap: string;
}
const item = fc.record({
  entries: fc.array(fc.tuple(key, fc.oneof(scalar, flowList, fc.constant(''))), { minLength: 1, maxLength: 4 }),
  dashGap: fc.constantFrom(' ', '  ', '   '),
});
const filler = fc.constantFrom('', '# comment', '   ', '  # indented comment', '    #x');

/** A `rules:` document of `items`, with blank and comment lines between its lines, in LF or CRLF. */
const document = fc
  .tuple(fc.array(item, { maxLength: 4 }), fc.constantFrom('', '  '), fc.array(filler, { maxLength: 12 }), fc.boolean(), fc.constantFrom('', 'other: 1', 'x:\n  y: z'))
  .map(([items, seqIndent, fillers, crlf, trailer]) => {
    const lines = ['rules:'];
    for (const { entries, dashGap } of items as Item[]) {
      const col = seqIndent.length + 1 + dashGap.length;
      entries.forEach(([k, v], i) => {
        const prefix = i === 0 ? `${seqIndent}-${dashGap}` : ' '.repeat(col);
        lines.push(`${prefix}${k}:${v === '' ? '' : ` ${v}`}`);
        if (fillers.length > 0) lines.push(fillers[(i + lines.length) % fillers.length]!);
      });
    }
    if (trailer) lines.push(trailer);
    return lines.join(crlf ? '\r\n' : '\n') + '\n';
  });

/** A rules file as people write them: plain ids and names, numbers, a quoted operator, a flow list of channels. */
const usualFile = fc
  .array(
    fc.record({
      id: fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/),
      name: fc.stringMatching(/^[A-Z][a-z]{0,6}( [a-z0-9]{1,5}){0,3}$/),
      device: fc.oneof(fc.stringMatching(/^[a-z][a-z0-9_-]{0,8}$/), fc.nat({ max: 9999 }).map(String), fc.constant('10.0.0.7')),
      operator: fc.constantFrom('>', '>=', '<', '<=', '==', '!='),
      threshold: fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.double({ min: -1000, max: 1000, noNaN: true }).map((n) => Number(n.toFixed(3)))),
      channels: fc.array(fc.constantFrom('console', 'email', 'slack', 'webhook'), { maxLength: 3 }),
      enabled: fc.boolean(),
    }),
    { maxLength: 6 },
  )
  .map((rules) => {
    const lines = ['# alert rules', 'rules:'];
    for (const r of rules) {
      lines.push(`  - id: ${r.id}`, `    name: ${r.name}  # shown in titles`, `    device_id: ${r.device}`, `    metric: cpu`, `    operator: "${r.operator}"`);
      lines.push(`    threshold: ${r.threshold}`, `    channels: [${r.channels.join(', ')}]`, `    enabled: ${r.enabled}`, '');
    }
    return lines.join('\n');
  });

describe('readPlainYaml (properties)', () => {
  it('gives exactly what the yaml package gives, or leaves the text to it', () => {
    let read = 0;
    fc.assert(
      fc.property(document, (text) => {
        const fast = readPlainYaml(text);
        if (fast === undefined) return;
        read++;
        const expected = full(text);
        expect(expected).not.toBe('failed');
        expect(fast).toStrictEqual((expected as { value: unknown }).value);
      }),
      { numRuns: 3000 },
    );
    // The property says something only if the reader takes a good share of these texts.
    expect(read).toBeGreaterThan(300);
  });

  it('reads the rules files people write without the full parser, to the same values', () => {
    fc.assert(
      fc.property(usualFile, (text) => {
        const fast = readPlainYaml(text);
        expect(fast).not.toBeUndefined();
        expect(fast).toStrictEqual(parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('leaves anchors, tags, block scalars, multi-line scalars and several documents to the full parser', () => {
    const outside = [
      'rules:\n  - &a {id: x}\n',
      'rules: !!seq []\n',
      'rules:\n  - id: a\n    name: |\n      long\n',
      'rules:\n  - id: a\n    name: two\n      lines\n',
      '---\nrules: []\n',
      'rules: []\n---\nrules: []\n',
      'rules:\n  - id: a\n    id: b\n',
      'rules:\n\t- id: a\n',
      'rules:\n  - id: "a\\tb"\n',
    ];
    for (const text of outside) expect(readPlainYaml(text), text).toBeUndefined();
  });
});
