import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkaPartitionOf, murmur2 } from '../../../src/streams/brokers/kafka-partitioner.ts';

const defaultPartitioner = Partitioners.DefaultPartitioner();
const kafkajsPartitionOf = (key: string, partitions: number): number =>
  defaultPartitioner({
    topic: 't',
    partitionMetadata: Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] })),
    message: { key, value: null },
  });

describe('kafkaPartitionOf', () => {
  it('places every key where kafkajs DefaultPartitioner does (any text, any partition count)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.integer({ min: 1, max: 500 }), (key, partitions) => {
        expect(kafkaPartitionOf(key, partitions)).toBe(kafkajsPartitionOf(key, partitions));
      }),
      { numRuns: 2_000 },
    );
  });

  it('computes the Java client\'s murmur2 (the cases of Kafka\'s own UtilsTest)', () => {
    const cases: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, hash] of cases) expect(murmur2(Buffer.from(key))).toBe(hash);
  });

  it('rejects a partition count that is not a positive integer', () => {
    expect(() => kafkaPartitionOf('k', 0)).toThrow(/partitions must be an integer ≥ 1/);
  });
});
