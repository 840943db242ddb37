import { repeatsCovered, type Migration } from './migration.ts';

// Timestamps are TEXT in `Date#toISOString()` form, so comparing them as text orders them in time.
// JSON columns are TEXT; booleans are INTEGER 0/1.

const foundation: Migration = {
  version: '001_foundation',
  sql: `
    CREATE TABLE messages (
      -- seq is the rowid: recent() walks it backwards, so no other index is needed.
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      topic TEXT NOT NULL,
      partition INTEGER NOT NULL,
      "offset" TEXT NOT NULL,
      key TEXT,
      value TEXT NOT NULL,
      timestamp TEXT NOT NULL,
      received_at TEXT NOT NULL
    );

    CREATE TABLE actor_snapshots (
      actor_id TEXT PRIMARY KEY,
      snapshot TEXT NOT NULL,
      updated_at TEXT NOT NULL
    ) WITHOUT ROWID;
  `,
};

const alerts: Migration = {
  version: '002_alerts',
  sql: `
    CREATE TABLE rules (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      device_id TEXT NOT NULL,
      metric TEXT NOT NULL,
      operator TEXT NOT NULL CHECK (operator IN ('>', '>=', '<', '<=', '==', '!=')),
      threshold REAL NOT NULL,
      for_seconds REAL NOT NULL DEFAULT 0,
      clear_threshold REAL,
      keep_firing_for_seconds REAL NOT NULL DEFAULT 0,
      nodata_seconds REAL,
      severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'error', 'critical')),
      channels TEXT NOT NULL DEFAULT '[]',
      enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );

    CREATE TABLE readings_latest (
      device_id TEXT NOT NULL,
      metric TEXT NOT NULL,
      value REAL NOT NULL,
      ts TEXT NOT NULL,
      PRIMARY KEY (device_id, metric)
    ) WITHOUT ROWID;
    CREATE INDEX readings_latest_ts ON readings_latest (ts);

    CREATE TABLE alert_events (
      id TEXT PRIMARY KEY,
      alert_id TEXT NOT NULL,
      device_id TEXT NOT NULL,
      metric TEXT NOT NULL,
      operator TEXT NOT NULL,
      severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'error', 'critical')),
      threshold_value REAL NOT NULL,
      current_value REAL NOT NULL,
      triggered_at TEXT NOT NULL,
      is_resolved INTEGER NOT NULL DEFAULT 0 CHECK (is_resolved IN (0, 1)),
      resolved_at TEXT,
      resolution_value REAL,
      metadata TEXT NOT NULL DEFAULT '{}'
    );
    -- The store's guarantee that a rule never has two open events, whatever a caller does.
    CREATE UNIQUE INDEX alert_events_one_open ON alert_events (alert_id) WHERE is_resolved = 0;
    CREATE INDEX alert_events_triggered_at ON alert_events (triggered_at);
    CREATE INDEX alert_events_alert ON alert_events (alert_id, triggered_at);
    CREATE INDEX alert_events_device ON alert_events (device_id, triggered_at);
    CREATE INDEX alert_events_resolved ON alert_events (is_resolved, resolved_at);

    CREATE TABLE notifications (
      id TEXT PRIMARY KEY,
      channel TEXT NOT NULL,
      severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'error', 'critical')),
      title TEXT NOT NULL,
      message TEXT NOT NULL,
      metadata TEXT NOT NULL DEFAULT '{}',
      alert_id TEXT,
      dedup_key TEXT,
      status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
      attempts INTEGER NOT NULL DEFAULT 0,
      last_error TEXT,
      next_attempt_at TEXT NOT NULL,
      claimed_at TEXT,
      created_at TEXT NOT NULL,
      sent_at TEXT
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
      name TEXT PRIMARY KEY,
      status TEXT NOT NULL CHECK (status IN ('healthy', 'degraded', 'unhealthy')),
      last_run_at TEXT,
      last_success_at TEXT,
      last_error TEXT,
      consecutive_failures INTEGER NOT NULL DEFAULT 0,
      total_runs INTEGER NOT NULL DEFAULT 0,
      total_failures INTEGER NOT NULL DEFAULT 0,
      success_rate REAL NOT NULL DEFAULT 1,
      updated_at TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE analytics_snapshots (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      generated_at TEXT NOT NULL,
      period TEXT NOT NULL,
      data TEXT NOT NULL
    );
    CREATE INDEX analytics_snapshots_generated_at ON analytics_snapshots (generated_at);
  `,
};

// The janitor deletes messages by receipt time.
const messageRetention: Migration = {
  version: '004_message_retention',
  sql: `CREATE INDEX messages_received_at ON messages (received_at);`,
};

// Resolved events are found by resolution time (retention, \`is_resolved=true\` lists), open ones by
// rule through alert_events_one_open. An index on (is_resolved, resolved_at) tempted the planner to
// find a wave's open events by scanning its \`is_resolved = false\` part, which grows with the dead
// entries every resolve leaves until a vacuum; a partial index of resolved events cannot be used so.
const resolvedIndex: Migration = {
  version: '005_resolved_index',
  sql: `
    DROP INDEX alert_events_resolved;
    CREATE INDEX alert_events_resolved_at ON alert_events (resolved_at) WHERE is_resolved = 1;
  `,
};

// The notifier's claim walks the rows still to deliver in due order and stops at its limit (see
// CLAIM in sqlite/notifications.ts); sent and failed rows, the bulk of the table, are not in it.
const claimIndex: Migration = {
  version: '006_claim_index',
  sql: `CREATE INDEX notifications_claim ON notifications (next_attempt_at, created_at) WHERE status IN ('pending', 'sending');`,
};

// Silences, and a `suppressed` outbox status for the rows they keep from being sent. SQLite cannot
// change a CHECK constraint in place: the notifications table is rebuilt with the wider one.
const silences: Migration = {
  version: '007_silences',
  sql: `
    CREATE TABLE silences (
      id TEXT PRIMARY KEY,
      rule_id TEXT,
      device_id TEXT,
      metric TEXT,
      severity TEXT CHECK (severity IN ('info', 'warning', 'error', 'critical')),
      starts_at TEXT NOT NULL,
      ends_at TEXT NOT NULL,
      created_by TEXT NOT NULL,
      comment TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE INDEX silences_ends_at ON silences (ends_at);

    CREATE TABLE notifications_widened (
      id TEXT PRIMARY KEY,
      channel TEXT NOT NULL,
      severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'error', 'critical')),
      title TEXT NOT NULL,
      message TEXT NOT NULL,
      metadata TEXT NOT NULL DEFAULT '{}',
      alert_id TEXT,
      dedup_key TEXT,
      status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'suppressed')),
      attempts INTEGER NOT NULL DEFAULT 0,
      last_error TEXT,
      next_attempt_at TEXT NOT NULL,
      claimed_at TEXT,
      created_at TEXT NOT NULL,
      sent_at TEXT
    );
    INSERT INTO notifications_widened (id, channel, severity, title, message, metadata, alert_id, dedup_key, status, attempts,
        last_error, next_attempt_at, claimed_at, created_at, sent_at)
      SELECT id, channel, severity, title, message, metadata, alert_id, dedup_key, status, attempts,
        last_error, next_attempt_at, claimed_at, created_at, sent_at FROM notifications ORDER BY rowid;
    DROP TABLE notifications;
    ALTER TABLE notifications_widened RENAME TO notifications;
    CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
    CREATE INDEX notifications_created ON notifications (created_at);
    CREATE INDEX notifications_sent ON notifications (dedup_key, sent_at) WHERE status = 'sent';
    CREATE INDEX notifications_claim ON notifications (next_attempt_at, created_at) WHERE status IN ('pending', 'sending');
    CREATE INDEX notifications_alert ON notifications (alert_id, created_at);
  `,
};

// readings_latest holds one row per series and every upsert moves its `ts`. An index on ts cost a
// delete and an insert in a second B-tree per reading (about a sixth of the store's CPU per batch of
// the alert path) to serve retention alone, whose `DELETE … WHERE ts < ?` can as well read the table
// once a run. As a rowid table, an upsert finds the row through its key's index and rewrites the row
// in place, the index untouched; WITHOUT ROWID, it rewrote the entry of the one B-tree holding both,
// for about 45 % more CPU per upserted reading.
const readingsRebuilt: Migration = {
  version: '008_readings_latest_upserts',
  sql: `
    CREATE TABLE readings_latest_rowid (
      device_id TEXT NOT NULL,
      metric TEXT NOT NULL,
      value REAL NOT NULL,
      ts TEXT NOT NULL,
      PRIMARY KEY (device_id, metric)
    );
    INSERT INTO readings_latest_rowid (device_id, metric, value, ts)
      SELECT device_id, metric, value, ts FROM readings_latest ORDER BY device_id, metric;
    DROP TABLE readings_latest;
    ALTER TABLE readings_latest_rowid RENAME TO readings_latest;
  `,
};

// Two outbox indexes no query needed, each written on every row: notifications_due (status,
// next_attempt_at) had a key every claim and settle moves, and with no statistics (the store runs no
// ANALYZE) the planner chose it for the claim and sorted every due row, leaving notifications_claim
// unused; the claim, the lease renewal and silences' suppress now find their rows through
// notifications_claim and the key, and retention's deletes and the counts per status (periodic) read
// the table. notifications_alert (alert_id, created_at) served no query here: the notification log's
// one statement tests `@alertId IS NULL OR alert_id = @alertId`, which SQLite answers by walking
// notifications_created whatever is bound (PostgreSQL plans it per value and keeps its index).
const outboxIndexesDropped: Migration = {
  version: '009_outbox_indexes',
  sql: `
    DROP INDEX notifications_due;
    DROP INDEX notifications_alert;
  `,
};

// alert_events_device (device_id, triggered_at) took an entry per event at a scattered key, a page of
// its own at each commit: POST /readings at 5 % breaching answered 15–20 % more requests without it.
// A device's events are found through its rules instead: alert_event_devices holds each (device,
// rule) pair any event has had, written by a trigger the first time a pair is seen (after that the
// insert finds it and writes nothing), and the list walks alert_events_alert for those rules.
const eventDevices: Migration = {
  version: '011_event_devices',
  sql: `
    CREATE TABLE alert_event_devices (
      device_id TEXT NOT NULL,
      alert_id TEXT NOT NULL,
      PRIMARY KEY (device_id, alert_id)
    ) WITHOUT ROWID;
    INSERT OR IGNORE INTO alert_event_devices (device_id, alert_id) SELECT DISTINCT device_id, alert_id FROM alert_events;
    CREATE TRIGGER alert_event_devices_insert AFTER INSERT ON alert_events BEGIN
      INSERT OR IGNORE INTO alert_event_devices (device_id, alert_id) VALUES (new.device_id, new.alert_id);
    END;
    CREATE TRIGGER alert_event_devices_update AFTER UPDATE OF device_id, alert_id ON alert_events BEGIN
      INSERT OR IGNORE INTO alert_event_devices (device_id, alert_id) VALUES (new.device_id, new.alert_id);
    END;
    DROP INDEX alert_events_device;
  `,
};

/** SQLite's migrations, oldest first. */
export const sqliteMigrations: readonly Migration[] = [
  foundation,
  alerts,
  operations,
  messageRetention,
  resolvedIndex,
  claimIndex,
  silences,
  readingsRebuilt,
  outboxIndexesDropped,
  repeatsCovered,
  eventDevices,
];
