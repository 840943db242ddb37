import { Observable, type OperatorFunction } from 'rxjs';

/**
 * Groups items into arrays of up to `size`, emitting a batch as soon as it is full or `ms` after
 * its first item, whichever comes first. Never emits an empty array; the remainder is flushed when
 * the source completes; on a source error the unflushed items are dropped and the error passes on.
 */
export function batchByCountOrTime<T>(size: number, ms: number): OperatorFunction<T, T[]> {
  if (!(Number.isInteger(size) && size >= 1)) throw new RangeError(`size must be an integer ≥ 1, got ${String(size)}`);
  if (!(Number.isFinite(ms) && ms >= 0)) throw new RangeError(`ms must be a finite number ≥ 0, got ${String(ms)}`);

  return (source) =>
    new Observable<T[]>((subscriber) => {
      let buffer: T[] = [];
      let timer: ReturnType<typeof setTimeout> | undefined;

      const flush = (): void => {
        clearTimeout(timer);
        timer = undefined;
        if (buffer.length === 0) return;
        const batch = buffer;
        buffer = [];
        subscriber.next(batch);
      };

      const subscription = source.subscribe({
        next: (item) => {
          buffer.push(item);
          if (buffer.length >= size) flush();
          // The window opens with the batch's first item, not at subscription time as in bufferTime.
          else if (timer === undefined) timer = setTimeout(flush, ms);
        },
        error: (error: unknown) => {
          clearTimeout(timer);
          subscriber.error(error);
        },
        complete: () => {
          flush();
          subscriber.complete();
        },
      });

      return () => {
        clearTimeout(timer);
        subscription.unsubscribe();
      };
    });
}
