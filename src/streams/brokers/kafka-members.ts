import { BehaviorSubject, distinctUntilChanged, map, type Observable, type Subscriber } from 'rxjs';
import type { Batch, BrokerHealth } from '../broker.ts';
import type { GroupMember } from './kafka-member.ts';

/** The group members of one Kafka broker (one per `consume()`), the partitions they own, and their stopping. */
export class KafkaMembers {
  private readonly members = new Map<GroupMember, Subscriber<Batch>>();
  private readonly assignmentsOf = new Map<GroupMember, Record<string, number[]>>();
  private readonly assignmentChanges = new BehaviorSubject<void>(undefined);
  private readonly stopping = new Set<Promise<void>>();
  /** Why a consumer gave up, until a later one runs: readiness stays false meanwhile (no silent stall). */
  private consumerGaveUp: string | undefined;

  /** Tracks a started member; returns the teardown that stops it (once). */
  add(member: GroupMember, subscriber: Subscriber<Batch>): () => void {
    this.members.set(member, subscriber);
    return () => {
      if (this.members.has(member)) this.stop(member);
    };
  }

  /** The member owns these partitions now. */
  assigned(member: GroupMember, assignment: Record<string, number[]>): void {
    this.assignmentsOf.set(member, assignment);
    this.assignmentChanges.next();
  }

  /** A member gave up: health reports why until another member runs. */
  gaveUp(reason: string): void {
    this.consumerGaveUp = reason;
  }

  /** The partitions of `topic` owned by any member, sorted, again after each change. */
  assignments(topic: string): Observable<number[]> {
    return this.assignmentChanges.pipe(
      map(() => [...new Set([...this.assignmentsOf.values()].flatMap((assignment) => assignment[topic] ?? []))].sort((a, b) => a - b)),
      distinctUntilChanged((a, b) => a.length === b.length && a.every((partition, i) => partition === b[i])),
    );
  }

  /** Healthy when no consumer gave up unanswered and every member runs. */
  health(): BrokerHealth {
    const current = [...this.members.keys()];
    if (current.some((member) => member.state === 'running')) this.consumerGaveUp = undefined;
    if (this.consumerGaveUp) return { ok: false, detail: this.consumerGaveUp };
    const notRunning = current.find((member) => member.state !== 'running');
    if (notRunning) return { ok: false, detail: `Kafka consumer ${notRunning.state}${notRunning.lastError ? `: ${notRunning.lastError}` : ''}` };
    return { ok: true };
  }

  /** Stops every member, completes their streams and waits until all have left their groups. */
  async close(): Promise<void> {
    for (const [member, subscriber] of [...this.members]) {
      this.stop(member);
      subscriber.complete();
    }
    await Promise.all([...this.stopping]);
    this.assignmentChanges.complete();
  }

  private stop(member: GroupMember): void {
    this.members.delete(member);
    const stop = member.stop().finally(() => {
      this.stopping.delete(stop);
      this.assignmentsOf.delete(member);
      this.assignmentChanges.next();
    });
    this.stopping.add(stop);
  }
}
