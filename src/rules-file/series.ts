const NUMBER = String.raw`[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?`;
const EXPANDING = new RegExp(String.raw`^(${NUMBER})(?:([-+])(${NUMBER}))?x(\d+)$`);
const SINGLE = new RegExp(`^${NUMBER}$`);

/**
 * Expands promtool's series notation into one entry per sample slot (null: no sample): `_` is a
 * missing sample and `_xn` n of them; `a` one value; `axn` a repeated n+1 times; `a+bxn` and `a-bxn`
 * the n+1 values a, a±b, …, a±n×b. Throws with the offending token.
 */
export function expandSeries(text: string): (number | null)[] {
  const values: (number | null)[] = [];
  for (const token of text.trim().split(/\s+/).filter(Boolean)) {
    if (token === '_') {
      values.push(null);
      continue;
    }
    const blanks = /^_x(\d+)$/.exec(token);
    if (blanks) {
      for (let i = 0; i < Number(blanks[1]); i++) values.push(null);
      continue;
    }
    if (SINGLE.test(token)) {
      values.push(Number(token));
      continue;
    }
    const match = EXPANDING.exec(token);
    if (!match) throw new Error(`'${token}' is not a value, '_', 'axn', 'a+bxn' or 'a-bxn'`);
    const [, start, sign, step = '0', count] = match;
    const delta = (sign === '-' ? -1 : 1) * Number(step);
    for (let i = 0; i <= Number(count); i++) values.push(Number(start) + i * delta);
  }
  return values;
}
