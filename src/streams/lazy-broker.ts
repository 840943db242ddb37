import { defer, from, switchMap, type Observable } from 'rxjs';
import type { Batch, BrokerHealth, ConsumeOptions, PublishOptions, PublishReceipt } from './broker.ts';
import type { KafkaBroker } from './brokers/kafka.ts';

/**
 * A Kafka broker that imports its adapter (and kafkajs) on first use, so an in-process setup never
 * pays for it. Every member of the port is forwarded: `Required` makes a member added to the port
 * a type error here until it is forwarded too.
 */
export function lazyKafkaBroker(load: () => Promise<KafkaBroker>): Required<KafkaBroker> {
  let loading: Promise<KafkaBroker> | undefined;
  let closed = false;
  const broker = () =>
    (loading ??= load().then(async (loaded) => {
      if (closed) await loaded.close();
      return loaded;
    }));
  const later = <T>(observe: (loaded: KafkaBroker) => Observable<T>): Observable<T> => defer(() => from(broker())).pipe(switchMap(observe));
  return {
    kind: 'kafka',
    publish: (topic: string, value: unknown, options?: PublishOptions): Promise<PublishReceipt> =>
      broker().then((loaded) => loaded.publish(topic, value, options)),
    consume: (topics: string[], options: ConsumeOptions): Observable<Batch> => later((loaded) => loaded.consume(topics, options)),
    health: (): Promise<BrokerHealth> => broker().then((loaded) => loaded.health()),
    async close(): Promise<void> {
      closed = true;
      if (loading) await (await loading).close();
    },
    assignments: (topic: string): Observable<number[]> => later((loaded) => loaded.assignments(topic)),
    partitionOf: (topic: string, key: string): Promise<number> => broker().then((loaded) => loaded.partitionOf(topic, key)),
  };
}
