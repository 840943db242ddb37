import { Kafka, logLevel } from 'kafkajs';
import { describe, it } from 'vitest';
import { createLogger } from '../../../src/runtime/logger.ts';
import { createKafkaBroker } from '../../../src/streams/brokers/kafka.ts';
import { runBrokerContract } from '../../contract/broker.contract.ts';
import { kafkaBrokers, skippedWithoutKafka } from '../../support/kafka.ts';

const logger = createLogger('silent');
const quick = { redelivery: { initialMs: 10, maxMs: 50, jitter: 'none' as const }, retry: { initialMs: 10, maxMs: 50 } };

// The whole Broker contract on a real broker (CI starts one).
const brokers = [...kafkaBrokers];
if (brokers.length > 0) {
  runBrokerContract(`kafka adapter on the real Kafka at ${brokers.join(',')}`, {
    create: () =>
      createKafkaBroker({
        kafka: new Kafka({ clientId: 'vigil-contract', brokers, logLevel: logLevel.NOTHING }),
        logger,
        ...quick,
        drainMs: 2_000,
      }),
    timeoutMs: 30_000,
    quietMs: 1_500,
  });
} else {
  skippedWithoutKafka('Broker contract: kafka adapter on a real Kafka', 'runs the Broker contract against KAFKA_BROKERS');
}
