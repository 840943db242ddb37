import type { Config } from '../config/index.ts';
import type { Logger } from '../ports/logger.ts';
import type { RunReporter } from '../ports/run-reporter.ts';
import type { Broker } from './broker.ts';
import { createMemoryBroker } from './brokers/memory.ts';
import { lazyKafkaBroker } from './lazy-broker.ts';

/**
 * The broker KAFKA_BROKERS names, or the in-process broker when it is unset; Kafka consumers report
 * their runs to `runs`. The Kafka adapter and kafkajs are imported only when Kafka is configured.
 */
export function openBroker(kafka: Config['kafka'], logger: Logger, runs?: RunReporter): Broker {
  if (!kafka) return createMemoryBroker();
  return lazyKafkaBroker(async () => {
    const [{ createKafkaBroker }, { createKafkaClient }] = await Promise.all([import('./brokers/kafka.ts'), import('./brokers/kafka-client.ts')]);
    return createKafkaBroker({
      kafka: createKafkaClient(kafka, logger.child({ component: 'kafkajs' })),
      logger,
      runs,
      fromBeginning: kafka.fromBeginning,
      retry: { maxRetries: kafka.maxRetries },
      group: { sessionTimeoutMs: kafka.sessionTimeoutMs, heartbeatIntervalMs: kafka.heartbeatIntervalMs, rebalanceTimeoutMs: kafka.rebalanceTimeoutMs },
    });
  });
}
