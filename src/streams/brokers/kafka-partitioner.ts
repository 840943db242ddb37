/**
 * The partition kafkajs's DefaultPartitioner (Java-compatible murmur2) gives a keyed message, so an
 * instance can tell which keys (devices) live in the partitions assigned to it.
 */
export function kafkaPartitionOf(key: string, partitions: number): number {
  if (!(Number.isSafeInteger(partitions) && partitions >= 1)) {
    throw new RangeError(`partitions must be an integer ≥ 1, got ${String(partitions)}`);
  }
  return (murmur2(Buffer.from(key)) & 0x7fffffff) % partitions;
}

/** Kafka's murmur2 (Utils.murmur2 of the Java client): 32-bit arithmetic, seed 0x9747b28c. */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = 0x9747b28c ^ length;
  const blocks = length >>> 2;
  for (let i = 0; i < blocks; i += 1) {
    const i4 = i * 4;
    let k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & ~3;
  switch (length % 4) {
    case 3:
      h ^= data[tail + 2] << 16;
      h ^= data[tail + 1] << 8;
      h ^= data[tail];
      h = Math.imul(h, m);
      break;
    case 2:
      h ^= data[tail + 1] << 8;
      h ^= data[tail];
      h = Math.imul(h, m);
      break;
    case 1:
      h ^= data[tail];
      h = Math.imul(h, m);
      break;
    default:
      break;
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}
