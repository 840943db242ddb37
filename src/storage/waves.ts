/**
 * Splits calls (given by their keys, in call order) into waves that hold at most one call per key:
 * wave n holds each key's n-th call. Running the waves one after another, each as one set, applies
 * every key's calls in call order; calls of different keys touch different rows, so their order is free.
 * Returns the calls' indices, per wave, in call order.
 */
export function waves(keys: readonly string[]): number[][] {
  const seen = new Map<string, number>();
  const result: number[][] = [];
  keys.forEach((key, index) => {
    const wave = seen.get(key) ?? 0;
    seen.set(key, wave + 1);
    (result[wave] ??= []).push(index);
  });
  return result;
}
