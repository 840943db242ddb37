/** One versioned schema change; versions sort in the order they apply (`001_foundation`, `002_alerts`…). */
export interface Migration {
  readonly version: string;
  readonly sql: string;
}

/** Tables every adapter's migrations create; `Store.missingTables()` checks for each of them. */
export const STORE_TABLES = [
  'schema_migrations',
  'messages',
  'actor_snapshots',
  'rules',
  'readings_latest',
  'alert_events',
  'notifications',
  'plugin_health',
  'analytics_snapshots',
  'silences',
] as const;

