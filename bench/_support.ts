/** What several benchmarks share: where a spawned server listens, the CPU a process used, a value source. */
import { readFileSync } from 'node:fs';

/** CPU time (user + system) a process has used, in ms (Linux /proc; clock ticks of 10 ms). */
export const cpuMs = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

/** The base URL a process prints on `stream` once listening (`pattern` captures a URL or a port). */
export function printedUrl(stream: NodeJS.ReadableStream, pattern: RegExp, kind: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer | string) => {
      text += String(chunk);
      const found = pattern.exec(text);
      if (!found) return;
      stream.off('data', onData);
      resolve(found[1]!.startsWith('http') ? found[1]!.replace(/\/$/, '') : `http://127.0.0.1:${found[1]}`);
    };
    stream.on('data', onData);
    stream.once('end', () => reject(new Error(`${kind} ended before it printed where it listens: ${text}`)));
  });
}

/**
 * A deterministic source of reading values (mulberry32): below the threshold of 80, except a `breach`
 * share at 95 above it, so rules fire and resolve.
 */
export function values(breach: number): () => number {
  let seed = 42;
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    const r = ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    return r < breach ? 95 : Math.round(((r - breach) / (1 - breach)) * 700) / 10;
  };
}
