/**
 * The part of kafkajs the Kafka adapter uses, as structural types: a real `new Kafka(...)` fits
 * them, and so does a test fake, with no import of kafkajs here.
 */

/** One record of a fetched batch, as kafkajs hands it over. */
export interface KafkaMessageLike {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Epoch milliseconds, as a decimal string. */
  timestamp: string;
}

/** A fetched batch of one topic-partition (kafkajs `Batch`). */
export interface KafkaBatchLike {
  topic: string;
  partition: number;
  messages: KafkaMessageLike[];
  firstOffset(): string | null;
  lastOffset(): string;
}

/** What kafkajs passes to `eachBatch`. */
export interface EachBatchPayloadLike {
  batch: KafkaBatchLike;
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
}

/** A topic and, optionally, some of its partitions (kafkajs `pause`/`resume` argument). */
export interface TopicPartitionsLike {
  topic: string;
  partitions?: number[];
}

/** An instrumentation event (kafkajs `InstrumentationEvent`); payloads are read defensively. */
export interface InstrumentationEventLike {
  type: string;
  timestamp: number;
  payload: unknown;
}

/** The consumer events the adapter listens to. */
export interface ConsumerEventsLike {
  readonly GROUP_JOIN: string;
  readonly CRASH: string;
  readonly REBALANCING: string;
}

/** A kafkajs `Consumer`, narrowed to what the adapter calls. */
export interface ConsumerLike {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(subscription: { topics: string[]; fromBeginning?: boolean }): Promise<void>;
  run(config: {
    autoCommit?: boolean;
    eachBatchAutoResolve?: boolean;
    partitionsConsumedConcurrently?: number;
    eachBatch: (payload: EachBatchPayloadLike) => Promise<void>;
  }): Promise<void>;
  commitOffsets(offsets: Array<{ topic: string; partition: number; offset: string }>): Promise<void>;
  pause(topics: TopicPartitionsLike[]): void;
  resume(topics: TopicPartitionsLike[]): void;
  on(eventName: string, listener: (event: InstrumentationEventLike) => void): () => void;
  readonly events: ConsumerEventsLike;
}

/** A kafkajs `RecordMetadata`, narrowed. */
export interface RecordMetadataLike {
  partition: number;
  baseOffset?: string;
  offset?: string;
}

/** A kafkajs `Producer`, narrowed. */
export interface ProducerLike {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(record: { topic: string; messages: Array<{ key: string | null; value: string }> }): Promise<RecordMetadataLike[]>;
}

/** A kafkajs `Admin`, narrowed to topic metadata (partition counts). */
export interface AdminLike {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  fetchTopicMetadata(options: { topics: string[] }): Promise<{ topics: Array<{ name: string; partitions: Array<{ partitionId: number }> }> }>;
}

/** Group timings of a consumer (kafkajs `ConsumerConfig`, in milliseconds). */
export interface ConsumerTimingsLike {
  sessionTimeout?: number;
  heartbeatInterval?: number;
  rebalanceTimeout?: number;
  /** Longest wait of an empty fetch: kafkajs heartbeats between fetches, so this bounds the gap between heartbeats. */
  maxWaitTimeInMs?: number;
}

/** A kafkajs `Kafka` client, narrowed: the factory of producers, consumers and admins. */
export interface KafkaLike {
  producer(): ProducerLike;
  consumer(config: { groupId: string } & ConsumerTimingsLike): ConsumerLike;
  admin(): AdminLike;
}
