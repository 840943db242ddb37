import { BrokerError } from '../../errors.ts';

/**
 * A message value as it travels: JSON text, as Kafka carries bytes, so no consumer can change
 * another's copy. A value JSON cannot carry (undefined, a function, a BigInt, a cycle) is refused.
 */
export function encodeValue(value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (cause) {
    throw new BrokerError('message value must be JSON-serializable', { code: 'BROKER_INVALID_MESSAGE', cause });
  }
  if (json === undefined) {
    throw new BrokerError('message value must be JSON-serializable (got undefined or a function)', { code: 'BROKER_INVALID_MESSAGE' });
  }
  return json;
}
