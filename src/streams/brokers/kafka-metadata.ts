import { BrokerError } from '../../errors.ts';
import type { AdminLike, KafkaLike } from './kafka-like.ts';

/** Partition counts of Kafka topics, fetched once per topic through an admin client connected on first need. */
export class KafkaMetadata {
  private admin: AdminLike | undefined;
  private readonly counts = new Map<string, Promise<number>>();

  constructor(private readonly kafka: KafkaLike) {}

  /** How many partitions `topic` has; a failed lookup is forgotten, so the next call asks again. */
  partitionCount(topic: string): Promise<number> {
    let count = this.counts.get(topic);
    if (!count) {
      count = this.fetch(topic);
      count.catch(() => this.counts.delete(topic));
      this.counts.set(topic, count);
    }
    return count;
  }

  /** Disconnects the admin client, if one was connected. */
  disconnect(): Promise<void> | undefined {
    return this.admin?.disconnect();
  }

  private async fetch(topic: string): Promise<number> {
    if (!this.admin) {
      const created = this.kafka.admin();
      await created.connect();
      this.admin = created;
    }
    const metadata = await this.admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = metadata.topics.find((each) => each.name === topic)?.partitions.length ?? 0;
    if (partitions < 1) throw new BrokerError(`Kafka topic '${topic}' has no partitions`, { code: 'KAFKA_UNKNOWN_TOPIC', retriable: true });
    return partitions;
  }
}
