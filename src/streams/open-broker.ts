import type { Config } from '../config.ts';
import type { Logger } from '../runtime/logger.ts';
import type { RunReporter } from '../runtime/run-reporter.ts';
import type { Broker } from './broker.ts';
import { createKafkaBroker } from './brokers/kafka.ts';
import { createKafkaClient } from './brokers/kafka-client.ts';
import { createMemoryBroker } from './brokers/memory.ts';

/** The broker KAFKA_BROKERS names, or the in-process broker when it is unset; Kafka consumers report their runs to `runs`. */
export function openBroker(kafka: Config['kafka'], logger: Logger, runs?: RunReporter): Broker {
  if (!kafka) return createMemoryBroker();
  return createKafkaBroker({
    kafka: createKafkaClient(kafka, logger.child({ component: 'kafkajs' })),
    logger,
    runs,
    fromBeginning: kafka.fromBeginning,
    retry: { maxRetries: kafka.maxRetries },
    group: { sessionTimeoutMs: kafka.sessionTimeoutMs, heartbeatIntervalMs: kafka.heartbeatIntervalMs, rebalanceTimeoutMs: kafka.rebalanceTimeoutMs },
  });
}
