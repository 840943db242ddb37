import { Kafka, logLevel, Partitioners, type LogEntry, type SASLOptions } from 'kafkajs';
import type { KafkaConfig } from '../../config/index.ts';
import type { Logger } from '../../ports/logger.ts';
import type { KafkaLike } from './kafka-like.ts';

/** A kafkajs client for `config`, logging through pino; its producers use the DefaultPartitioner `partitionOf` mirrors. */
export function createKafkaClient(config: KafkaConfig, logger: Logger): KafkaLike {
  const kafka = new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    ssl: config.ssl,
    ...(config.sasl ? { sasl: config.sasl as SASLOptions } : {}),
    logCreator: () => (entry) => logEntry(logger, entry),
  });
  return {
    // Naming the partitioner also silences kafkajs's warning about the v2 default change.
    producer: () => kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner }),
    consumer: (consumerConfig) => kafka.consumer(consumerConfig),
    admin: () => kafka.admin(),
  };
}

/**
 * kafkajs logs every internal retry at ERROR: those go to warn, since the adapter logs the outcomes
 * that matter (gave up, crashed) at error itself. Its INFO lines (joins, commits) go to debug.
 */
function logEntry(logger: Logger, { namespace, level, log }: LogEntry): void {
  const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
  const data = { kafkajs: namespace, ...fields };
  if (level === logLevel.ERROR || level === logLevel.WARN) logger.warn(data, message);
  else logger.debug(data, message);
}
