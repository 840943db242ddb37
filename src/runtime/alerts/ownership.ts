import type { Observable } from 'rxjs';
import type { Rule } from '../../domain/rule.ts';
import type { Broker } from '../../streams/broker.ts';
import type { Logger } from '../logger.ts';

/**
 * Which rules this instance runs. Readings are keyed by device id, so a device lives in one partition
 * of the readings topic; an instance runs the rules of the devices in the partitions assigned to it.
 * On a broker that reports no assignments (the in-process one) the instance runs every rule.
 */
export interface RuleOwnership {
  /** The partitions of the readings topic assigned to this instance, after each rebalance; absent = all rules are owned. */
  readonly assignments: Observable<number[]> | undefined;
  /** Whether this instance runs the rule (its device's partition was accepted, and its partition is known). */
  owns(rule: Pick<Rule, 'device_id'>): boolean;
  /** Looks up the partitions of these rules' devices, so that `owns` can answer for them. */
  learn(rules: Pick<Rule, 'device_id'>[]): Promise<void>;
  /** Makes `partitions` the owned ones: called by the engine once it released or adopted their rules. */
  accept(partitions: number[]): void;
}

/** Ownership of every rule: one instance, or a broker without partitions. */
export function ownsEveryRule(): RuleOwnership {
  return { assignments: undefined, owns: () => true, learn: async () => undefined, accept: () => undefined };
}

/** Ownership by the partitions of `topic` the broker assigns to this instance (every rule when it cannot tell). */
export function ruleOwnership(options: { broker: Broker; topic: string; logger: Logger }): RuleOwnership {
  const { broker, topic, logger } = options;
  if (!broker.assignments || !broker.partitionOf) return ownsEveryRule();
  const partitionOf = broker.partitionOf.bind(broker);
  const partitionOfDevice = new Map<string, number>();
  let owned = new Set<number>();

  return {
    assignments: broker.assignments(topic),
    owns: (rule) => {
      const partition = partitionOfDevice.get(rule.device_id);
      return partition !== undefined && owned.has(partition);
    },
    async learn(rules) {
      for (const device of new Set(rules.map((rule) => rule.device_id))) {
        if (partitionOfDevice.has(device)) continue;
        try {
          partitionOfDevice.set(device, await partitionOf(topic, device));
        } catch (error) {
          // Usually the topic does not exist yet: no partition is assigned either, so nothing is lost.
          logger.warn({ err: error, topic, device }, 'partition of device unknown; its rules wait for the next cycle');
          return;
        }
      }
    },
    accept(partitions) {
      owned = new Set(partitions);
    },
  };
}
