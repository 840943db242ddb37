import { Partitioners } from 'kafkajs';
import type {
  AdminLike,
  ConsumerLike,
  EachBatchPayloadLike,
  InstrumentationEventLike,
  KafkaLike,
  ProducerLike,
  TopicPartitionsLike,
} from '../../../src/streams/brokers/kafka-like.ts';

/**
 * An in-memory Kafka cluster behind kafkajs's client API (the shapes of `Kafka`, `Consumer`,
 * `Producer`, `Admin`), faithful where the adapter depends on it: kafkajs's DefaultPartitioner,
 * consumer groups with round-robin assignment and REBALANCING / GROUP_JOIN events, fetch positions
 * that move with resolveOffset while committed offsets move only with commits, autoCommit and
 * eachBatchAutoResolve defaults, pause/resume, commitOffsets being a no-op once a consumer stopped,
 * and CRASH events. Failures are injected through the cluster's counters.
 */
export interface FakeKafka extends KafkaLike {
  /** Connect attempts still to fail, by client kind. */
  failures: { producerConnect: number; consumerConnect: number; send: number };
  readonly consumers: FakeConsumer[];
  /** Every commit: group, topic, partition, offset. */
  readonly commits: Array<{ groupId: string; topic: string; partition: number; offset: string }>;
  committed(groupId: string, topic: string, partition: number): string | undefined;
  messages(topic: string): Array<{ partition: number; offset: string; key: string | null; value: unknown }>;
  /** Emits CRASH on a running consumer; `restart: false` also stops it (kafkajs gave up on it). */
  crash(consumer: FakeConsumer, error: Error, restart: boolean): Promise<void>;
  /** Moves partitions: the next rebalance of `groupId` gives each member the partitions `plan` lists (by member index in join order). */
  plan(groupId: string, plan: ((topic: string, partitions: number, members: number) => number[][]) | undefined): void;
  rebalance(groupId: string): void;
}

/** A fake consumer, with what tests inspect. */
export interface FakeConsumer extends ConsumerLike {
  readonly groupId: string;
  readonly memberId: string;
  readonly running: boolean;
  heartbeats: number;
  readonly assignment: Record<string, number[]>;
  readonly paused: Set<string>;
  seek(target: { topic: string; partition: number; offset: string }): void;
  stop(): Promise<void>;
}

interface StoredRecord { key: Buffer | null; value: Buffer; timestamp: string }
interface Group { members: ConsumerState[]; committed: Map<string, string>; plan?: (topic: string, partitions: number, members: number) => number[][] }
interface ConsumerState {
  api: FakeConsumer;
  topics: string[];
  fromBeginning: boolean;
  assignment: Record<string, number[]>;
  positions: Map<string, string>;
  wake: () => void;
}

const EVENTS = { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash', REBALANCING: 'consumer.rebalancing' } as const;
const tp = (topic: string, partition: number): string => `${topic}/${partition}`;

/** A fresh fake cluster; topics are created on first use with `partitions` partitions. */
export function createFakeKafka(options: { partitions?: number; fetchMax?: number } = {}): FakeKafka {
  const partitionsPerTopic = options.partitions ?? 3;
  const fetchMax = options.fetchMax ?? 100;
  const logs = new Map<string, StoredRecord[][]>();
  const groups = new Map<string, Group>();
  const consumers: FakeConsumer[] = [];
  const commits: FakeKafka['commits'] = [];
  const failures = { producerConnect: 0, consumerConnect: 0, send: 0 };
  const partitioner = Partitioners.DefaultPartitioner();
  let memberSeq = 0;

  const log = (topic: string): StoredRecord[][] => {
    let partitions = logs.get(topic);
    if (!partitions) {
      partitions = Array.from({ length: partitionsPerTopic }, () => []);
      logs.set(topic, partitions);
    }
    return partitions;
  };
  const groupOf = (groupId: string): Group => {
    let group = groups.get(groupId);
    if (!group) groups.set(groupId, (group = { members: [], committed: new Map() }));
    return group;
  };
  const wakeAll = (): void => {
    for (const group of groups.values()) for (const member of group.members) member.wake();
  };

  const rebalance = (groupId: string): void => {
    const group = groupOf(groupId);
    const members = [...group.members].sort((a, b) => a.api.memberId.localeCompare(b.api.memberId));
    for (const member of members) emit(member.api, EVENTS.REBALANCING, { groupId, memberId: member.api.memberId });
    for (const member of members) member.assignment = {};
    const topics = [...new Set(members.flatMap((member) => member.topics))].sort();
    for (const topic of topics) {
      const subscribed = members.filter((member) => member.topics.includes(topic));
      const count = log(topic).length;
      const planned = group.plan?.(topic, count, subscribed.length);
      for (let partition = 0; partition < count; partition += 1) {
        const index = planned ? planned.findIndex((owned) => owned.includes(partition)) : partition % subscribed.length;
        const owner = subscribed[index];
        if (owner) (owner.assignment[topic] ??= []).push(partition);
        const key = tp(topic, partition);
        if (!group.committed.has(key)) {
          const fromBeginning = subscribed.some((member) => member.fromBeginning);
          group.committed.set(key, String(fromBeginning ? 0 : log(topic)[partition].length));
        }
      }
    }
    for (const member of members) {
      member.positions.clear();
      emit(member.api, EVENTS.GROUP_JOIN, { groupId, memberId: member.api.memberId, memberAssignment: { ...member.assignment } });
      member.wake();
    }
  };

  const listeners = new Map<FakeConsumer, Map<string, Set<(event: InstrumentationEventLike) => void>>>();
  const emit = (consumer: FakeConsumer, type: string, payload: unknown): void => {
    for (const listener of listeners.get(consumer)?.get(type) ?? []) listener({ type, timestamp: Date.now(), payload });
  };

  const consumer = ({ groupId }: { groupId: string }): FakeConsumer => {
    let connected = false;
    let subscription: { topics: string[]; fromBeginning: boolean } | undefined;
    let running = false;
    let loop: Promise<void> | undefined;
    const paused = new Set<string>();
    const seeks = new Map<string, string>();
    const own = new Map<string, Set<(event: InstrumentationEventLike) => void>>();
    let wakeUp: (() => void) | undefined;
    const state: ConsumerState = {
      api: undefined as unknown as FakeConsumer,
      topics: [],
      fromBeginning: false,
      assignment: {},
      positions: new Map(),
      wake: () => wakeUp?.(),
    };
    const group = groupOf(groupId);

    const leave = (): void => {
      running = false;
      state.wake();
      if (group.members.includes(state)) {
        group.members = group.members.filter((member) => member !== state);
        rebalance(groupId);
      }
    };

    /** One fetch: every assigned, unpaused partition with records gets one eachBatch, in turn (as kafkajs handles a fetch response). */
    const fetchOnce = async (config: Parameters<ConsumerLike['run']>[0]): Promise<boolean> => {
      let fetched = false;
      for (const [topic, partitions] of Object.entries(state.assignment)) {
        for (const partition of partitions) {
          const key = tp(topic, partition);
          if (!running || !state.assignment[topic]?.includes(partition)) return fetched;
          if (paused.has(topic) || paused.has(key)) continue;
          const seek = seeks.get(key);
          if (seek !== undefined) {
            state.positions.set(key, seek);
            seeks.delete(key);
          }
          const position = Number(state.positions.get(key) ?? group.committed.get(key) ?? '0');
          const records = log(topic)[partition].slice(position, position + fetchMax);
          if (records.length === 0) continue;
          fetched = true;
          const messages = records.map((record, i) => ({ offset: String(position + i), attributes: 0, headers: {}, ...record }));
          const lastOffset = messages[messages.length - 1].offset;
          const payload: EachBatchPayloadLike = {
            batch: { topic, partition, messages, firstOffset: () => messages[0].offset, lastOffset: () => lastOffset },
            resolveOffset: (offset: string) => state.positions.set(key, String(Number(offset) + 1)),
            heartbeat: async () => {
              api.heartbeats += 1;
            },
            isRunning: () => running,
            isStale: () => seeks.has(key),
          };
          state.positions.set(key, String(position));
          try {
            await config.eachBatch(payload);
          } catch (error) {
            // kafkajs: a failing eachBatch crashes the runner, which restarts from the committed offsets.
            state.positions.clear();
            emit(api, EVENTS.CRASH, { error, groupId, restart: true });
            return fetched;
          }
          if (config.eachBatchAutoResolve ?? true) payload.resolveOffset(lastOffset);
          if (config.autoCommit ?? true) await api.commitOffsets([{ topic, partition, offset: state.positions.get(key) ?? String(position) }]);
        }
      }
      return fetched;
    };

    const api: FakeConsumer = {
      groupId,
      get memberId() {
        return memberId;
      },
      get running() {
        return running;
      },
      heartbeats: 0,
      get assignment() {
        return state.assignment;
      },
      paused,
      events: EVENTS,
      async connect() {
        if (failures.consumerConnect > 0) {
          failures.consumerConnect -= 1;
          throw Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), { retriable: true });
        }
        connected = true;
      },
      async subscribe({ topics, fromBeginning = false }) {
        if (!connected) throw new Error('consumer is not connected');
        subscription = { topics, fromBeginning };
      },
      async run(config) {
        if (!subscription) throw new Error('consumer is not subscribed');
        state.topics = subscription.topics;
        state.fromBeginning = subscription.fromBeginning;
        running = true;
        group.members.push(state);
        rebalance(groupId);
        loop = (async () => {
          while (running) {
            const fetched = await fetchOnce(config);
            if (!fetched && running) await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, 20);
              wakeUp = () => (clearTimeout(timer), resolve());
            });
          }
        })();
      },
      async stop() {
        leave();
        await loop;
      },
      async disconnect() {
        await api.stop();
        connected = false;
      },
      async commitOffsets(offsets) {
        if (!running) return;
        for (const { topic, partition, offset } of offsets) {
          group.committed.set(tp(topic, partition), offset);
          commits.push({ groupId, topic, partition, offset });
        }
      },
      pause(topics: TopicPartitionsLike[]) {
        for (const { topic, partitions } of topics) for (const key of partitions ? partitions.map((p) => tp(topic, p)) : [topic]) paused.add(key);
      },
      resume(topics: TopicPartitionsLike[]) {
        for (const { topic, partitions } of topics) for (const key of partitions ? partitions.map((p) => tp(topic, p)) : [topic]) paused.delete(key);
        state.wake();
      },
      on(eventName, listener) {
        let set = own.get(eventName);
        if (!set) own.set(eventName, (set = new Set()));
        set.add(listener);
        return () => set.delete(listener);
      },
      seek({ topic, partition, offset }) {
        seeks.set(tp(topic, partition), offset);
        state.wake();
      },
    };
    const memberId = `${groupId}-member-${String(memberSeq++).padStart(4, '0')}`;
    state.api = api;
    listeners.set(api, own);
    consumers.push(api);
    return api;
  };

  const producer = (): ProducerLike => {
    let connected = false;
    return {
      async connect() {
        if (failures.producerConnect > 0) {
          failures.producerConnect -= 1;
          throw Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), { retriable: true });
        }
        connected = true;
      },
      async disconnect() {
        connected = false;
      },
      async send({ topic, messages }) {
        if (!connected) throw Object.assign(new Error('The producer is disconnected'), { retriable: false });
        if (failures.send > 0) {
          failures.send -= 1;
          throw Object.assign(new Error('This server is not the leader for that topic-partition'), { retriable: true });
        }
        const partitions = log(topic);
        const metadata = partitions.map((_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
        const receipts = messages.map((message) => {
          const partition = partitioner({ topic, partitionMetadata: metadata, message: { key: message.key, value: message.value } });
          partitions[partition].push({ key: message.key === null ? null : Buffer.from(message.key), value: Buffer.from(message.value), timestamp: String(Date.now()) });
          return { topicName: topic, partition, errorCode: 0, baseOffset: String(partitions[partition].length - 1) };
        });
        wakeAll();
        return receipts;
      },
    };
  };

  const admin = (): AdminLike => ({
    async connect() {},
    async disconnect() {},
    async fetchTopicMetadata({ topics }) {
      return { topics: topics.map((name) => ({ name, partitions: log(name).map((_, partitionId) => ({ partitionId })) })) };
    },
  });

  return {
    failures,
    consumers,
    commits,
    producer,
    consumer,
    admin,
    committed: (groupId, topic, partition) => groups.get(groupId)?.committed.get(tp(topic, partition)),
    messages: (topic) =>
      log(topic).flatMap((records, partition) =>
        records.map((record, offset) => ({ partition, offset: String(offset), key: record.key?.toString() ?? null, value: JSON.parse(record.value.toString()) as unknown })),
      ),
    async crash(target, error, restart) {
      emit(target, EVENTS.CRASH, { error, groupId: target.groupId, restart });
      if (!restart) await target.stop();
    },
    plan(groupId, plan) {
      groupOf(groupId).plan = plan;
    },
    rebalance,
  };
}
