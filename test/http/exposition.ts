/**
 * A strict parser of the Prometheus text exposition format (0.0.4), for tests: every line is a
 * `# HELP`, a `# TYPE` (before its samples, once per family), or a sample `name{labels} value`
 * whose name belongs to the declared family (with `_bucket`/`_sum`/`_count` for histograms).
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;
const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'], counter: [''], gauge: [''], untyped: [''] };

/** A sample value as Prometheus parses it (Go's ParseFloat: NaN and Inf in any letter case; prom-client writes `Nan`). */
function parseValue(text: string, line: string): number {
  const special = text.toLowerCase();
  if (special === '+inf' || special === 'inf') return Infinity;
  if (special === '-inf') return -Infinity;
  if (special === 'nan') return NaN;
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`bad sample value in: ${line}`);
  return value;
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const match = LABEL.exec(text);
    if (!match) throw new Error(`bad labels in: ${line}`);
    if (match[1]! in labels) throw new Error(`duplicate label ${match[1]} in: ${line}`);
    labels[match[1]!] = match[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  }
  return labels;
}

/** Parses `text` or throws naming the first offending line. */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const [, keyword, name, ...rest] = line.split(' ');
      if (keyword !== 'HELP' && keyword !== 'TYPE') continue;
      if (!name || !NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
      const family = families.get(name) ?? { name, type: 'untyped', help: '', samples: [] };
      if (keyword === 'TYPE') {
        if (family.samples.length > 0) throw new Error(`TYPE after samples in: ${line}`);
        if (!(rest[0]! in SUFFIXES)) throw new Error(`unknown type in: ${line}`);
        family.type = rest[0]!;
      } else family.help = rest.join(' ');
      families.set(name, family);
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`bad sample line: ${line}`);
    const sampleName = match[1]!;
    const family = [...families.values()].find((f) => SUFFIXES[f.type]!.some((suffix) => `${f.name}${suffix}` === sampleName));
    if (!family) throw new Error(`sample of an undeclared family: ${line}`);
    family.samples.push({ name: sampleName, labels: parseLabels(match[3] ?? '', line), value: parseValue(match[4]!, line) });
  }
  return families;
}
