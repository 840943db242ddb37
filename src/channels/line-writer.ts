import { writeSync } from 'node:fs';
import { DeliveryError } from '../errors.ts';

/** Writes one whole line and returns only once the operating system has it; throws a DeliveryError when it cannot. */
export type LineWriter = (line: string) => void;

/** How long a full pipe may hold a line up before the write counts as failed (and is retried later). */
const FULL_PIPE_WAIT_MS = 5_000;
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Blocking writes to a file descriptor (stdout by default). A pipe whose reader is slow answers
 * EAGAIN: the write waits for it, up to FULL_PIPE_WAIT_MS, and a line cut short by a partial write
 * is finished before returning. Unlike pino's stdout stream, nothing is left in a memory buffer
 * that a crash would lose.
 */
export function fdLineWriter(fd = 1): LineWriter {
  return (line) => {
    const bytes = Buffer.from(line, 'utf8');
    let offset = 0;
    const deadline = Date.now() + FULL_PIPE_WAIT_MS;
    while (offset < bytes.length) {
      try {
        offset += writeSync(fd, bytes, offset, bytes.length - offset);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
        if (code === 'EAGAIN' && Date.now() < deadline) {
          Atomics.wait(pause, 0, 0, 5);
          continue;
        }
        throw new DeliveryError(`console line not written: ${(error as Error).message}`, { code, retriable: code === 'EAGAIN', cause: error });
      }
    }
  };
}
