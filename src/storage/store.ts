import type { AlertEvent, AlertEventFilter, AlertEventStats, NewAlertEvent, Resolution } from '../domain/alert-event.ts';
import type { AnalyticsSnapshot } from '../domain/analytics.ts';
import type { NewNotification, Notification } from '../domain/notification.ts';
import type { PluginHealth } from '../domain/plugin.ts';
import type { Reading } from '../domain/reading.ts';
import type { Rule, RuleInput, RulePatch } from '../domain/rule.ts';
import type { Silence, SilenceInput } from '../domain/silence.ts';
import type { BrokerMessage } from '../streams/broker.ts';

/** A message the subscriber received, as stored and served by `GET /messages`. */
export interface SeenMessage extends BrokerMessage {
  received_at: string;
}

/** Messages the subscriber has seen. */
export interface MessageRepository {
  /** Appends the messages in one transaction, in the order given. */
  record(messages: SeenMessage[]): Promise<void>;
  /** The newest `limit` messages by recording order, oldest first. */
  recent(limit: number): Promise<SeenMessage[]>;
  /** Deletes messages received before `cutoff`; returns how many. */
  deleteReceivedBefore(cutoff: string): Promise<number>;
}

/** Persisted actor snapshots, keyed by actor id, so actors resume after a restart. */
export interface SnapshotRepository {
  /** Inserts or replaces each entry's snapshot (JSON-serializable), all in one transaction. */
  save(entries: { actorId: string; snapshot: unknown }[]): Promise<void>;
  load(actorId: string): Promise<unknown | undefined>;
  /** Every snapshot whose actor id starts with `prefix`. */
  loadAll(prefix: string): Promise<Map<string, unknown>>;
  /** Deleting an unknown id is not an error. */
  delete(actorId: string): Promise<void>;
  /** `delete` of many ids at once: one transaction on SQLite, one statement on PostgreSQL. */
  deleteMany(actorIds: readonly string[]): Promise<void>;
}

/** Alert rules. */
export interface RuleRepository {
  /** Oldest first. */
  list(): Promise<Rule[]>;
  get(id: string): Promise<Rule | undefined>;
  /** Assigns a UUID when `input.id` is absent; rejects with StoreError code `CONFLICT` when the id exists. */
  create(input: RuleInput): Promise<Rule>;
  /** Applies the defined fields of `patch` and bumps `updated_at`; undefined when no rule has this id. */
  update(id: string, patch: RulePatch): Promise<Rule | undefined>;
  /** True when a rule was deleted. */
  delete(id: string): Promise<boolean>;
  /**
   * Creates, edits and deletes many rules in one transaction, all or nothing (a rules file applied at
   * once): a create whose id exists rejects with StoreError `CONFLICT`; an edit or delete of an unknown id is skipped.
   */
  applyChanges(changes: RuleChanges): Promise<{ created: Rule[]; updated: Rule[]; deleted: number }>;
  /** How many rules there are and the newest `updated_at` (null when none): any create, edit or delete changes it. */
  fingerprint(): Promise<RulesFingerprint>;
}

/** What `applyChanges` does, in this order: creates, edits, deletes. */
export interface RuleChanges {
  create?: RuleInput[];
  update?: { id: string; patch: RulePatch }[];
  delete?: string[];
}

/** A cheap summary of the rules table, to tell whether a copy in memory is still current. */
export interface RulesFingerprint {
  count: number;
  updated: string | null;
}

/** The latest reading per (device, metric). */
export interface ReadingRepository {
  /** Keeps, per (device, metric), the reading with the newest `ts` (on a tie, the later write); one transaction. */
  upsertLatest(readings: Reading[]): Promise<void>;
  latest(deviceId: string, metric: string): Promise<Reading | undefined>;
  /** Ordered by device, then metric. */
  latestAll(): Promise<Reading[]>;
  /** Deletes readings whose `ts` is before `cutoff`; returns how many. */
  deleteOlderThan(cutoff: string): Promise<number>;
}

/** An alert transition as data: opening an event, or resolving the rule's open one (its notifications made from it). */
export type AlertTransition =
  | { kind: 'open'; event: NewAlertEvent; notifications: NewNotification[] }
  | { kind: 'resolve'; alertId: string; resolution: Resolution; notifications: (event: AlertEvent) => NewNotification[] };

/** What a transition did: `event` is the opened (or already open) event, or the one resolved; `changed` false when it was a no-op. */
export interface TransitionOutcome {
  changed: boolean;
  event: AlertEvent | undefined;
  /** With `commit`'s `claim`, on a store that honours it: the outbox rows the transition wrote already claimed, as `notifications.claim` returns rows. */
  claimed?: Notification[];
}

/**
 * Alert events and their notifications: firing and resolving are each one transaction, and the
 * notifications written with an event default their `alert_id` to the event's rule.
 */
export interface AlertEventRepository {
  /**
   * Opens an event and enqueues its notifications atomically. A rule has at most one open event:
   * when one is open already, that one is returned and nothing is written.
   */
  open(event: NewAlertEvent, notifications: NewNotification[]): Promise<{ event: AlertEvent; created: boolean }>;
  /** Resolves the rule's open event and enqueues its notifications atomically; undefined when none is open. */
  resolve(alertId: string, resolution: Resolution, notifications: NewNotification[]): Promise<AlertEvent | undefined>;
  openFor(alertId: string): Promise<AlertEvent | undefined>;
  /**
   * The readings path's write: `transitions` in order (each as `open`/`resolve` would do it), then
   * `readings` (as `readings.upsertLatest` would), all in ONE transaction, so that a reading is stored
   * only with the alert events and outbox rows it caused: a commit that fails leaves nothing behind.
   * Concurrent calls share one group commit, in call order (a failing one fails alone). One outcome
   * per transition, in order.
   *
   * With `claim`, the caller delivers the outbox rows itself: a store may then write the rows due at
   * once already claimed (`sending`, their claim made at the commit, exactly as `notifications.claim`
   * leaves a row) and return them in each outcome's `claimed`, sparing the notifier a claim. A row so
   * written that the caller never settles is claimed again once its claim is stale, like any claimed
   * row whose deliverer died. A store that ignores `claim` (PostgreSQL: its claim also arbitrates
   * between instances) writes them pending and returns no `claimed`.
   *
   * The store writes every notification it is given: a repeat of a recent send is left out by the
   * caller (see the alert writer's `repeatOf`), which knows what was sent.
   */
  commit(batch: { transitions: AlertTransition[]; readings: Reading[]; claim?: boolean }): Promise<TransitionOutcome[]>;
  /** Newest `triggered_at` first; `since` and `until` bound `triggered_at` inclusively; no `limit` means all. */
  list(filter: AlertEventFilter): Promise<AlertEvent[]>;
  /** `by_severity` counts every event; the mean time to resolve is over resolved events (null when none). */
  stats(): Promise<AlertEventStats>;
  /** Deletes resolved events resolved before `cutoff`; open events are never deleted. */
  deleteResolvedBefore(cutoff: string): Promise<number>;
}

/** The result of one delivery attempt, as `settle` records it. */
export type DeliveryResult =
  /** Sent at `sentAt`; with `coveredBy`, a repeat the send of that notification covered (it was not sent itself). */
  | { id: string; sentAt: string; coveredBy?: string }
  /** Back to `pending` at `nextAttemptAt`, or `failed` when it is null. */
  | { id: string; error: string; nextAttemptAt: string | null };

/** The newest send of a dedup key on a channel (see `lastSentAmong`). */
export interface SentMark {
  id: string;
  channel: string;
  dedup_key: string;
  sent_at: string;
}

/**
 * The notification outbox. `attempts` counts finished delivery attempts: `markSent`,
 * `markAttemptFailed` and each result of `settle` add one; they act only on a row still `sending`
 * and leave any other alone.
 */
export interface NotificationRepository {
  /**
   * New rows are `pending`, due at `next_attempt_at` (default: now). A notification naming an `id`
   * present already is not written again (the row stays as it is); returns the rows written.
   */
  enqueue(notifications: NewNotification[]): Promise<Notification[]>;
  /**
   * Claims up to `limit` rows due at `now` (pending with `next_attempt_at <= now`, or `sending` with
   * a claim more than `staleAfterMs` old), marking them `sending`, oldest due first. Two claimers
   * never get the same row while its claim is fresh. Claims are stamped, and judged stale, at
   * `leaseNow` (default `now`): instances sharing a store pass its clock (`Store.now()`), so that one
   * whose own clock runs ahead does not take a live claim for lapsed and send its row again.
   */
  claim(now: string, limit: number, staleAfterMs: number, leaseNow?: string): Promise<Notification[]>;
  /**
   * Renews the claim of each of `ids` still `sending` to `at` (a lease kept alive while its delivery
   * is in flight), so that no other claimer takes it over as stale; rows settled meanwhile are left alone.
   */
  renew(ids: string[], at: string): Promise<void>;
  markSent(id: string, sentAt: string): Promise<void>;
  /** Records a failed attempt: back to `pending` at `nextAttemptAt`, or `failed` when `nextAttemptAt` is null. */
  markAttemptFailed(id: string, error: string, nextAttemptAt: string | null): Promise<void>;
  /** Records the results of a batch of deliveries in one transaction (one commit for the batch). */
  settle(results: DeliveryResult[]): Promise<void>;
  /** The newest sent row with this dedup key sent at or after `since` (on `channel` only, when given). */
  lastSent(dedupKey: string, since: string, channel?: string): Promise<Notification | undefined>;
  /** For each (dedup key, channel) given, its newest send at or after `since`, when there is one; one query. */
  lastSentAmong(keys: { dedupKey: string; channel: string }[], since: string): Promise<SentMark[]>;
  /**
   * The earliest `next_attempt_at` of the `pending` rows (due already or not: a retry waits in the
   * future), or null when none is pending. A claim that came back short of its limit left no due
   * row behind; this says until when that holds.
   */
  nextDueAt(): Promise<string | null>;
  /** Newest first; no `limit` means all. */
  list(filter: { status?: Notification['status']; limit?: number }): Promise<Notification[]>;
  /** Rows per status, every status present (0 when none). */
  counts(): Promise<Record<Notification['status'], number>>;
  /** Deletes `sent` rows sent before `cutoff`; pending, sending and failed rows stay. */
  deleteSentBefore(cutoff: string): Promise<number>;
}

/** What `GET /notifications` filters on; each field, when given, must hold. */
export interface NotificationFilter {
  status?: Notification['status'];
  channel?: string;
  /** The rule the notifications are about (their `alert_id`). */
  alertId?: string;
  /** Created at or after this instant. */
  since?: string;
  limit: number;
}

/** The outbox as an operator reads it: every row, by what it is about. */
export interface NotificationLog {
  /** Newest first, every filter given applied. */
  search(filter: NotificationFilter): Promise<Notification[]>;
}

/** Silences, and the outbox rows they kept from being sent. */
export interface SilenceRepository {
  /** Assigns the id and `created_at`. */
  create(input: SilenceInput): Promise<Silence>;
  get(id: string): Promise<Silence | undefined>;
  /** Newest first. */
  list(): Promise<Silence[]>;
  /** Silences whose `ends_at` is after `at` (pending or active then), oldest first. */
  unexpired(at: string): Promise<Silence[]>;
  /** Ends the silence at `at` unless it ended earlier; undefined when no silence has this id. */
  expire(id: string, at: string): Promise<Silence | undefined>;
  /** Marks claimed (`sending`) outbox rows `suppressed`, as a silence kept them from being sent; other rows stay. */
  suppress(notificationIds: string[]): Promise<void>;
  /** Retention: deletes silences that ended, and suppressed rows created, before `cutoff`; returns how many of each. */
  deleteBefore(cutoff: string): Promise<{ silences: number; suppressed: number }>;
}

/** Plugin health, one row per plugin name. */
export interface PluginHealthRepository {
  /** Inserts or replaces the plugin's row. */
  upsert(health: PluginHealth): Promise<void>;
  /** Ordered by name. */
  list(): Promise<PluginHealth[]>;
}

/** Analytics snapshots over time. */
export interface AnalyticsRepository {
  insert(snapshot: AnalyticsSnapshot): Promise<void>;
  /** The newest `limit` (default all) generated at or after `since`, returned oldest first. */
  list(since?: string, limit?: number): Promise<AnalyticsSnapshot[]>;
  /** Deletes snapshots generated before `cutoff`; returns how many. */
  deleteBefore(cutoff: string): Promise<number>;
}

/**
 * The Store port: repositories over one database, its migrations and its lifetime.
 * Timestamps go in as ISO-8601 and come back in `Date#toISOString()` form (UTC, milliseconds).
 * Every failure rejects with a StoreError (`retriable` for lock or connection trouble;
 * `STORE_CLOSED` after `close()`).
 */
export interface Store {
  readonly kind: string;
  readonly messages: MessageRepository;
  readonly snapshots: SnapshotRepository;
  readonly rules: RuleRepository;
  readonly readings: ReadingRepository;
  readonly alerts: AlertEventRepository;
  readonly notifications: NotificationRepository;
  readonly plugins: PluginHealthRepository;
  readonly analytics: AnalyticsRepository;
  readonly notificationLog: NotificationLog;
  readonly silences: SilenceRepository;
  /** Applies pending migrations; returns the versions applied by this call. */
  migrate(): Promise<string[]>;
  /** Names of the tables a migrated database must have but this one lacks (empty when ready). */
  missingTables(): Promise<string[]>;
  /** Resolves when the database answers a trivial query. */
  health(): Promise<void>;
  /**
   * The database's clock, in epoch ms: one clock for every instance sharing the store, whatever
   * their own clocks say (PostgreSQL's server clock; SQLite's file is shared on one host only).
   */
  now(): Promise<number>;
  /** Idempotent. */
  close(): Promise<void>;
}
