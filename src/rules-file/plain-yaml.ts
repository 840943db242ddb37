/**
 * A fast reader for the plain block style rules files are written in: nested block mappings and
 * sequences (`key: value`, `- item`) whose leaves are one-line scalars (plain, 'single' or "double"
 * quoted without escapes) or flow lists of them (`[a, "b"]`), with comments and blank lines anywhere.
 * It gives the values the `yaml` package gives (YAML 1.2 core schema) for such text, about 20 times
 * faster; for anything else (anchors, tags, block scalars, multi-line scalars, flow mappings, escapes,
 * tabs, several documents, duplicate keys, anything malformed) it answers `undefined`, and the caller
 * hands the text to the full parser, which also produces the error messages.
 */

/** Thrown inside the reader when the text leaves the plain subset; never escapes it. */
class NotPlain extends Error {}
const notPlain = (): never => {
  throw new NotPlain();
};

/** One meaningful line: where its content starts, and whether a `- ` (at `dashCol`) precedes it. */
interface Line {
  /** Column of the content (after `- ` on a sequence item). */
  col: number;
  /** Column of the `-` of a sequence item; -1 when the line is not one. */
  dashCol: number;
  /** The key of a `key:` line. */
  key?: string;
  /** The text after `key:` (trimmed, comment kept for the scalar reader), or the item's text; undefined when empty. */
  value?: string;
}

const KEY_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
// Keys the core schema would read as null or a boolean, and the one a plain object cannot hold.
const SPECIAL_KEY = /^(?:[Nn]ull|NULL|[Tt]rue|TRUE|[Ff]alse|FALSE|__proto__)$/;
const MAYBE_SPECIAL = /^[nNtTfF_]/;

/** The line's structure, or undefined for a blank or comment-only line. */
function readLine(raw: string): Line | undefined {
  let indent = 0;
  while (raw.charCodeAt(indent) === 32) indent++;
  const rest = indent === 0 ? raw : raw.slice(indent);
  if (rest === '' || rest[0] === '#') return undefined;
  let dashCol = -1;
  let col = indent;
  let content = rest;
  if (rest[0] === '-' && (rest.length === 1 || rest[1] === ' ')) {
    dashCol = indent;
    content = rest.slice(1).trimStart();
    col = indent + rest.length - content.length;
    // `-` alone (the item on the next lines), a nested `- -`, or a comment as the item.
    if (content === '' || content[0] === '#' || (content[0] === '-' && (content.length === 1 || content[1] === ' '))) notPlain();
  }
  // `key:` then the end of the line or a space: a key, when it is a plain name.
  const colon = content.indexOf(':');
  if (colon > 0 && (colon === content.length - 1 || content.charCodeAt(colon + 1) === 32)) {
    const key = content.slice(0, colon);
    if (KEY_NAME.test(key)) {
      if (MAYBE_SPECIAL.test(key) && SPECIAL_KEY.test(key)) notPlain();
      const value = content.slice(colon + 1).trim();
      return { col, dashCol, key, value: value === '' || value[0] === '#' ? undefined : value };
    }
  }
  // Not a simple key, yet something a YAML reader might take as one (a quoted or spaced key).
  if (content.includes(': ') || content.endsWith(':')) notPlain();
  return { col, dashCol, value: content };
}

const startOf = (line: Line): number => (line.dashCol >= 0 ? line.dashCol : line.col);

const NULL = /^(?:~|[Nn]ull|NULL)$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT = /^[-+]?[0-9]+$/;
const OCT = /^0o[0-7]+$/;
const HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const INF_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
// After a quoted scalar or a flow list: nothing, or a comment set off by white space.
const AFTER = /^(?:[ \t]+#.*|[ \t]*)$/;
const DOUBLE = /^"([^"\\]*)"/;
const SINGLE = /^'((?:[^']|'')*)'/;
// Characters that start something other than a plain scalar (an indicator) in block context.
const INDICATOR = /^[[\]{}&*!|>%@`,?:#]/;

// First characters of the core schema's null, boolean and number forms: any other is a string.
const MAYBE_TYPED = /^[-+.0-9~nNtTfF]/;

/** A plain scalar as the core schema reads it. */
function resolvePlain(text: string): unknown {
  if (!MAYBE_TYPED.test(text)) return text;
  if (NULL.test(text)) return null;
  if (BOOL.test(text)) return text[0] === 't' || text[0] === 'T';
  if (INT.test(text)) return parseInt(text, 10);
  if (OCT.test(text)) return parseInt(text.slice(2), 8);
  if (HEX.test(text)) return parseInt(text.slice(2), 16);
  if (FLOAT.test(text)) return parseFloat(text);
  if (INF_NAN.test(text)) return text.slice(-3).toLowerCase() === 'nan' ? NaN : text[0] === '-' ? -Infinity : Infinity;
  return text;
}

/** A quoted scalar that fills `text` (up to a comment), else undefined. */
function quoted(text: string): string | undefined {
  const match = (text[0] === '"' ? DOUBLE : SINGLE).exec(text);
  if (!match || !AFTER.test(text.slice(match[0].length))) return notPlain();
  return text[0] === '"' ? match[1]! : match[1]!.replaceAll("''", "'");
}

/** One item of a flow list `[a, 'b']`: quoted, or plain without anything flow context reads otherwise. */
function flowItem(text: string): unknown {
  if (text === '') return notPlain();
  if (text[0] === '"' || text[0] === "'") return quoted(text);
  if (INDICATOR.test(text) || text.includes(':') || text.includes('#') || text === '-' || text.startsWith('- ')) return notPlain();
  return resolvePlain(text);
}

/** The value text after `key: ` or `- `. */
function scalar(text: string): unknown {
  const first = text[0];
  if (first === '"' || first === "'") return quoted(text);
  if (first === '[') {
    const end = text.lastIndexOf(']');
    const inner = text.slice(1, end);
    if (end < 0 || !AFTER.test(text.slice(end + 1)) || /[[\]{}#]/.test(inner)) return notPlain();
    return inner.trim() === '' ? [] : inner.split(',').map((item) => flowItem(item.trim()));
  }
  if (INDICATOR.test(text) || (first === '-' && (text.length === 1 || text[1] === ' '))) return notPlain();
  const comment = text.indexOf(' #');
  const plain = (comment < 0 ? text : text.slice(0, comment)).trimEnd();
  if (plain.includes(': ') || plain.endsWith(':')) return notPlain();
  return resolvePlain(plain);
}

/** Walks the text line by line, building the value; `line` is the next meaningful line (none at the end). */
class Reader {
  private from = 0;
  line: Line | undefined;
  constructor(private readonly text: string) {
    this.advance();
  }

  /** Moves to the next meaningful line. Lines are read as they are needed, so each is garbage at once. */
  advance(): void {
    const { text } = this;
    this.line = undefined;
    while (this.from <= text.length) {
      const newline = text.indexOf('\n', this.from);
      const to = newline < 0 ? text.length : newline;
      const raw = text.slice(this.from, text.charCodeAt(to - 1) === 13 ? to - 1 : to);
      this.from = to + 1;
      if (raw.includes('\r')) notPlain();
      // Directives, document markers: the full parser's business.
      if (raw.startsWith('%') || raw.startsWith('---') || raw.startsWith('...')) notPlain();
      this.line = readLine(raw);
      if (this.line) return;
    }
  }

  /** A block mapping whose keys sit at `col`; `fromDash`: its first key follows a `- `. */
  mapping(col: number, fromDash: boolean): Record<string, unknown> {
    const map: Record<string, unknown> = {};
    for (let first = fromDash, line = this.line; line; first = false, line = this.line) {
      if (!first) {
        const start = startOf(line);
        if (start < col) break;
        if (start > col || line.dashCol >= 0) notPlain();
      }
      if (line.key === undefined || Object.hasOwn(map, line.key)) notPlain();
      this.advance();
      map[line.key!] = line.value === undefined ? this.nested(col) : scalar(line.value);
    }
    return map;
  }

  /** A block sequence whose dashes sit at `dashCol`. */
  sequence(dashCol: number): unknown[] {
    const list: unknown[] = [];
    for (let line = this.line; line; line = this.line) {
      const start = startOf(line);
      if (start < dashCol || (start === dashCol && line.dashCol < 0)) break;
      if (start > dashCol) notPlain();
      if (line.key !== undefined) list.push(this.mapping(line.col, true));
      else {
        this.advance();
        list.push(scalar(line.value!));
      }
    }
    return list;
  }

  /** The value of a `key:` at `col` with nothing after it: a block below it, or null. */
  nested(col: number): unknown {
    const line = this.line;
    if (!line) return null;
    const start = startOf(line);
    // A sequence may sit at its key's own column (`rules:` then `- id: …`).
    if (line.dashCol >= 0 && start >= col) return this.sequence(start);
    if (start <= col) return null;
    if (line.key === undefined) notPlain();
    return this.mapping(start, false);
  }
}

/** The value of `text` when it is plain block YAML (see above), else undefined. */
export function readPlainYaml(text: string): unknown {
  if (text.includes('\t') || text.charCodeAt(0) === 0xfeff) return undefined;
  try {
    const reader = new Reader(text);
    const first = reader.line;
    if (!first || startOf(first) !== 0) return undefined;
    const value = first.dashCol === 0 ? reader.sequence(0) : first.key !== undefined ? reader.mapping(0, false) : notPlain();
    return reader.line === undefined ? value : undefined;
  } catch (error) {
    if (error instanceof NotPlain) return undefined;
    throw error;
  }
}
