/** One message of the Stately inspection protocol, as `createInspector` hands it to its adapter. */
export interface InspectionMessage {
  type: string;
  sessionId?: string;
  snapshot?: { status?: string } & Record<string, unknown>;
}

/**
 * Every live actor as the Stately inspector must first see it: its `@xstate.actor` message (its
 * definition) carrying its latest snapshot, then its latest `@xstate.snapshot` message (with the
 * event that led there). An actor whose snapshot is no longer active (done, stopped, failed) is
 * forgotten. What a viewer that connects late is sent before the live messages: one entry per
 * actor, however many messages went by.
 */
export class ActorMemory {
  readonly #actors = new Map<string, { actor: InspectionMessage; snapshot?: InspectionMessage }>();

  /** Live actors remembered. */
  get size(): number {
    return this.#actors.size;
  }

  remember(message: InspectionMessage): void {
    const id = message.sessionId;
    if (!id) return;
    if (message.type === '@xstate.actor') {
      this.#actors.set(id, { actor: message });
      return;
    }
    if (message.type !== '@xstate.snapshot' || !message.snapshot) return;
    const known = this.#actors.get(id);
    if (message.snapshot.status !== undefined && message.snapshot.status !== 'active') this.#actors.delete(id);
    else if (known) this.#actors.set(id, { actor: { ...known.actor, snapshot: message.snapshot }, snapshot: message });
  }

  /** The messages that draw every live actor in its current state, parents first (in the order they started). */
  replay(): InspectionMessage[] {
    return [...this.#actors.values()].flatMap(({ actor, snapshot }) => (snapshot ? [actor, snapshot] : [actor]));
  }
}
