import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPartitionLog, partitionForKey } from '../../../src/streams/brokers/memory-partition.ts';

describe('partition log', () => {
  it('numbers messages from 0 and reads from any retained offset', () => {
    const log = createPartitionLog();
    ['a', 'b', 'c'].forEach((value, i) => expect(log.append(null, JSON.stringify(value), i).offset).toBe(i));
    expect(log.read(1, 10).map((entry) => entry.json)).toEqual(['"b"', '"c"']);
    expect(log.read(0, 2).map((entry) => entry.offset)).toEqual([0, 1]);
    expect(log.read(3, 10)).toEqual([]);
    expect(log.append('k', '1', 0)).toMatchObject({ key: 'k', timestamp: new Date(0).toISOString(), appendedAt: 0 });
  });

  it('keeps offsets, start, end and size consistent through any appends and trims', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant<'append'>('append'), fc.nat({ max: 40 })), { maxLength: 200 }), (operations) => {
        const log = createPartitionLog();
        let expectedStart = 0;
        let expectedEnd = 0;
        for (const operation of operations) {
          if (operation === 'append') {
            log.append(null, String(expectedEnd), 0);
            expectedEnd += 1;
          } else {
            log.trimBefore(operation);
            expectedStart = Math.min(expectedEnd, Math.max(expectedStart, operation));
          }
          expect(log.start).toBe(expectedStart);
          expect(log.end).toBe(expectedEnd);
          expect(log.size).toBe(expectedEnd - expectedStart);
          expect(log.read(0, Infinity).map((entry) => entry.offset)).toEqual(
            Array.from({ length: expectedEnd - expectedStart }, (_, i) => expectedStart + i),
          );
        }
      }),
    );
  });
});

describe('partitionForKey', () => {
  it('maps a key to the same partition in range every time', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 64 }), (key, partitions) => {
        const partition = partitionForKey(key, partitions);
        expect(Number.isInteger(partition) && partition >= 0 && partition < partitions).toBe(true);
        expect(partitionForKey(key, partitions)).toBe(partition);
      }),
    );
  });
});
