import { repeatsCovered, type Migration } from './migration.ts';

// The same versions and tables as ./sqlite.ts, in PostgreSQL types: TIMESTAMPTZ (the adapter turns it
// back into `Date#toISOString()` form), JSONB, BOOLEAN, DOUBLE PRECISION. Where SQLite breaks ties on
// its implicit rowid, these tables carry an identity `seq` column instead. Keys that the port returns
// in sorted order are COLLATE "C", so they sort bytewise as SQLite's BINARY collation does.

const foundation: Migration = {
  version: '001_foundation',
  sql: `
    CREATE TABLE messages (
      seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      topic TEXT NOT NULL,
      partition INTEGER NOT NULL,
      "offset" TEXT NOT NULL,
      key TEXT,
      value JSONB NOT NULL,
      timestamp TIMESTAMPTZ NOT NULL,
      received_at TIMESTAMPTZ NOT NULL
    );

    CREATE TABLE actor_snapshots (
      actor_id TEXT COLLATE "C" PRIMARY KEY,
      snapshot JSONB NOT NULL,
      updated_at TIMESTAMPTZ NOT NULL
    );
  `,
};

const alerts: Migration = {
  version: '002_alerts',
  sql: `
    CREATE TABLE rules (
      id TEXT PRIMARY KEY,
      seq BIGINT GENERATED ALWAYS AS IDENTITY,
      name TEXT NOT NULL,
      device_id TEXT NOT NULL,
      metric TEXT NOT NULL,
      operator TEXT NOT NULL CHECK (operator IN ('>', '>=', '<', '<=', '==', '!=')),
      threshold DOUBLE PRECISION NOT NULL,
      for_seconds DOUBLE PRECISION NOT NULL DEFAULT 0,
      clear_threshold DOUBLE PRECISION,
      keep_firing_for_seconds DOUBLE PRECISION NOT NULL DEFAULT 0,
      nodata_seconds DOUBLE PRECISION,
      severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'error', 'critical')),
      channels JSONB NOT NULL DEFAULT '[]',
      enabled BOOLEAN NOT NULL DEFAULT TRUE,
      created_at TIMESTAMPTZ NOT NULL,
      updated_at TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX rules_created ON rules (created_at, seq);

    CREATE TABLE readings_latest (
      device_id TEXT COLLATE "C" NOT NULL,
      metric TEXT COLLATE "C" NOT NULL,
      value DOUBLE PRECISION NOT NULL,
      ts TIMESTAMPTZ NOT NULL,
      PRIMARY KEY (device_id, metric)
    );
    CREATE INDEX readings_latest_ts ON readings_latest (ts);

    CREATE TABLE alert_events (
      id TEXT PRIMARY KEY,
      seq BIGINT GENERATED ALWAYS AS IDENTITY,
      alert_id TEXT NOT NULL,
      device_id TEXT NOT NULL,
      metric TEXT NOT NULL,
      operator TEXT NOT NULL,
      severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'error', 'critical')),
      threshold_value DOUBLE PRECISION NOT NULL,
      current_value DOUBLE PRECISION NOT NULL,
      triggered_at TIMESTAMPTZ NOT NULL,
      is_resolved BOOLEAN NOT NULL DEFAULT FALSE,
      resolved_at TIMESTAMPTZ,
      resolution_value DOUBLE PRECISION,
      metadata JSONB NOT NULL DEFAULT '{}'
    );
    -- The store's guarantee that a rule never has two open events; open() relies on it (ON CONFLICT).
    CREATE UNIQUE INDEX alert_events_one_open ON alert_events (alert_id) WHERE NOT is_resolved;
    CREATE INDEX alert_events_triggered_at ON alert_events (triggered_at);
    CREATE INDEX alert_events_alert ON alert_events (alert_id, triggered_at);
    CREATE INDEX alert_events_device ON alert_events (device_id, triggered_at);
    CREATE INDEX alert_events_resolved ON alert_events (is_resolved, resolved_at);

    CREATE TABLE notifications (
      id TEXT PRIMARY KEY,
      seq BIGINT GENERATED ALWAYS AS IDENTITY,
      channel TEXT NOT NULL,
      severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'error', 'critical')),
      title TEXT NOT NULL,
      message TEXT NOT NULL,
      metadata JSONB NOT NULL DEFAULT '{}',
      alert_id TEXT,
      dedup_key TEXT,
      status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
      attempts INTEGER NOT NULL DEFAULT 0,
      last_error TEXT,
      next_attempt_at TIMESTAMPTZ NOT NULL,
      claimed_at TIMESTAMPTZ,
      created_at TIMESTAMPTZ NOT NULL,
      sent_at TIMESTAMPTZ
    );
    CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
    CREATE INDEX notifications_created ON notifications (created_at);
    CREATE INDEX notifications_sent ON notifications (dedup_key, sent_at) WHERE status = 'sent';
  `,
};

const operations: Migration = {
  version: '003_operations',
  sql: `
    CREATE TABLE plugin_health (
      name TEXT COLLATE "C" PRIMARY KEY,
      status TEXT NOT NULL CHECK (status IN ('healthy', 'degraded', 'unhealthy')),
      last_run_at TIMESTAMPTZ,
      last_success_at TIMESTAMPTZ,
      last_error TEXT,
      consecutive_failures BIGINT NOT NULL DEFAULT 0,
      total_runs BIGINT NOT NULL DEFAULT 0,
      total_failures BIGINT NOT NULL DEFAULT 0,
      success_rate DOUBLE PRECISION NOT NULL DEFAULT 1,
      updated_at TIMESTAMPTZ NOT NULL
    );

    CREATE TABLE analytics_snapshots (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      generated_at TIMESTAMPTZ NOT NULL,
      period TEXT NOT NULL,
      data JSONB NOT NULL
    );
    CREATE INDEX analytics_snapshots_generated_at ON analytics_snapshots (generated_at);
  `,
};

// The janitor deletes messages by receipt time.
const messageRetention: Migration = {
  version: '004_message_retention',
  sql: `CREATE INDEX messages_received_at ON messages (received_at);`,
};

// Resolved events are found by resolution time (retention, `is_resolved=true` lists), open ones by
// rule through alert_events_one_open. An index on (is_resolved, resolved_at) tempted the planner to
// find a wave's open events by scanning its `is_resolved = false` part, which grows with the dead
// entries every resolve leaves until a vacuum; a partial index of resolved events cannot be used so.
const resolvedIndex: Migration = {
  version: '005_resolved_index',
  sql: `
    DROP INDEX alert_events_resolved;
    CREATE INDEX alert_events_resolved_at ON alert_events (resolved_at) WHERE is_resolved;
  `,
};

// The notifier's claim walks the rows still to deliver in due order and stops at its limit (see CLAIM
// in postgres/notifications.ts); sent and failed rows, the bulk of the table, are not in it.
const claimIndex: Migration = {
  version: '006_claim_index',
  sql: `CREATE INDEX notifications_claim ON notifications (next_attempt_at, created_at, seq) WHERE status IN ('pending', 'sending');`,
};

// Silences, and a `suppressed` outbox status for the rows they keep from being sent.
const silences: Migration = {
  version: '007_silences',
  sql: `
    CREATE TABLE silences (
      id TEXT PRIMARY KEY,
      rule_id TEXT,
      device_id TEXT,
      metric TEXT,
      severity TEXT CHECK (severity IN ('info', 'warning', 'error', 'critical')),
      starts_at TIMESTAMPTZ NOT NULL,
      ends_at TIMESTAMPTZ NOT NULL,
      created_by TEXT NOT NULL,
      comment TEXT NOT NULL,
      created_at TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX silences_ends_at ON silences (ends_at);
    ALTER TABLE notifications DROP CONSTRAINT notifications_status_check;
    ALTER TABLE notifications ADD CONSTRAINT notifications_status_check
      CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'suppressed'));
    CREATE INDEX notifications_alert ON notifications (alert_id, created_at);
  `,
};

// readings_latest holds one row per series and every upsert moves its `ts`: while ts was indexed,
// no upsert could be a heap-only (HOT) update, so each wrote a new index entry in both indexes. Only
// retention read that index; its `DELETE … WHERE ts < $1` can as well read the table once a run.
// (SQLite's 008 also rebuilds the table as a rowid table; a PostgreSQL table is a heap already.)
const readingsUnindexed: Migration = {
  version: '008_readings_latest_upserts',
  sql: `DROP INDEX readings_latest_ts;`,
};

// notifications_due (status, next_attempt_at): the claim walks notifications_claim, and every claim and
// settle moved this index's key (no heap-only update could skip it). Retention's deletes and the counts
// per status are periodic reads of the table. (SQLite's 009 also drops notifications_alert, which no
// SQLite plan used; PostgreSQL plans the notification log per value and uses it.)
const outboxIndexesDropped: Migration = {
  version: '009_outbox_indexes',
  sql: `DROP INDEX notifications_due;`,
};

// SQLite's 011 finds a device's events through its rules and drops alert_events_device. PostgreSQL
// keeps the index: nothing here measured its cost, and its plans use it as they are.
const eventDevices: Migration = {
  version: '011_event_devices',
  sql: `SELECT 1;`,
};

/** PostgreSQL's migrations, oldest first: the same versions as SQLite's. */
export const postgresMigrations: readonly Migration[] = [
  foundation,
  alerts,
  operations,
  messageRetention,
  resolvedIndex,
  claimIndex,
  silences,
  readingsUnindexed,
  outboxIndexesDropped,
  repeatsCovered,
  eventDevices,
];
