import type { AnalyticsSnapshot } from '../../domain/analytics.ts';
import type { AnalyticsRepository } from '../store.ts';
import type { SqliteConnection } from './connection.ts';
import type { Synchronous } from './guard.ts';
import { isoTime } from '../timestamps.ts';

interface SnapshotRow {
  generated_at: string;
  period: string;
  data: string;
}

// The newest `limit` at or after `since`, turned back to oldest first.
const LIST = `SELECT generated_at, period, data FROM (
    SELECT id, generated_at, period, data FROM analytics_snapshots WHERE generated_at >= @since
    ORDER BY generated_at DESC, id DESC LIMIT @limit
  ) ORDER BY generated_at, id`;

/** Analytics snapshots in SQLite: `period` and `generated_at` as columns, the figures as JSON. */
export function sqliteAnalytics({ statement }: SqliteConnection): Synchronous<AnalyticsRepository> {
  return {
    insert({ period, generated_at, ...figures }) {
      statement('INSERT INTO analytics_snapshots (generated_at, period, data) VALUES (?, ?, ?)').run(
        isoTime(generated_at, 'generated_at'),
        period,
        JSON.stringify(figures),
      );
    },
    list(since, limit) {
      const from = since === undefined ? '' : isoTime(since, 'since');
      const rows = statement(LIST).all({ since: from, limit: limit ?? -1 }) as SnapshotRow[];
      return rows.map(({ generated_at, period, data }) => ({
        period,
        generated_at,
        ...(JSON.parse(data) as Omit<AnalyticsSnapshot, 'period' | 'generated_at'>),
      }));
    },
    deleteBefore(cutoff) {
      return statement('DELETE FROM analytics_snapshots WHERE generated_at < ?').run(isoTime(cutoff, 'cutoff')).changes;
    },
  };
}
