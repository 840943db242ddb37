import { describe, it } from 'vitest';

/** The brokers KAFKA_BROKERS names (comma-separated host:port); empty when it names none. */
export const kafkaBrokers: readonly string[] = (process.env.KAFKA_BROKERS ?? '')
  .split(',')
  .map((each) => each.trim())
  .filter(Boolean);

const HOW_TO_RUN =
  'set KAFKA_BROKERS=host:port (../shared/tools/kafka/start.sh, then KAFKA_BROKERS=127.0.0.1:9092; or `docker compose up -d kafka`, then KAFKA_BROKERS=127.0.0.1:9094)';

/**
 * What a Kafka suite registers when no broker is named: a skipped suite titled `title`, holding one
 * skipped test that says `what` it would check (so the report counts it as skipped, not as passed),
 * and a SKIPPED line saying how to run it.
 */
export function skippedWithoutKafka(title: string, what: string): void {
  console.info(`SKIPPED: ${title}: ${HOW_TO_RUN} to run it.`);
  describe.skip(`${title} (set KAFKA_BROKERS to run)`, () => {
    it(what, () => undefined);
  });
}
