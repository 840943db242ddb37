import { Kafka, logLevel } from 'kafkajs';
import { describe, it } from 'vitest';
import { createLogger } from '../../../src/runtime/logger.ts';
import { createKafkaBroker } from '../../../src/streams/brokers/kafka.ts';
import { runBrokerContract } from '../../contract/broker.contract.ts';

const logger = createLogger('silent');
const quick = { redelivery: { initialMs: 10, maxMs: 50, jitter: 'none' as const }, retry: { initialMs: 10, maxMs: 50 } };

// The whole Broker contract on a real broker (CI starts one from ../shared/tools/kafka/start.sh).
const brokers = process.env.KAFKA_BROKERS?.split(',').map((each) => each.trim()).filter(Boolean);
if (brokers?.length) {
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
  console.info('SKIPPED: Broker contract on a real Kafka: set KAFKA_BROKERS=host:port (../shared/tools/kafka/start.sh, then KAFKA_BROKERS=127.0.0.1:9092; or `docker compose up -d kafka`, then KAFKA_BROKERS=127.0.0.1:9094) to run it.');
  describe.skip('Broker contract: kafka adapter on a real Kafka (set KAFKA_BROKERS to run)', () => {
    it('runs the Broker contract against KAFKA_BROKERS', () => undefined);
  });
}
