import type { BrokerMessage } from '../streams/broker.ts';

/** A message a handler could not process, and why: it goes to the topic's dead-letter topic. */
export interface RejectedMessage {
  message: BrokerMessage;
  error: string;
}

/**
 * Processes one batch of a topic. Throwing dead-letters the whole batch; returning `rejected`
 * dead-letters just those messages. Either way consumption goes on.
 */
export type TopicHandler = (messages: BrokerMessage[]) => Promise<void | { rejected: RejectedMessage[] }>;
