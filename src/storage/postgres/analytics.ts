import type { AnalyticsSnapshot } from '../../domain/analytics.ts';
import type { AnalyticsRepository } from '../store.ts';
import { isoTime } from '../timestamps.ts';
import type { PostgresConnection } from './connection.ts';

type Figures = Omit<AnalyticsSnapshot, 'period' | 'generated_at'>;

// The newest `limit` (LIMIT NULL: all) at or after `since` (NULL: any), turned back to oldest first.
const LIST = `SELECT generated_at, period, data FROM (
    SELECT id, generated_at, period, data FROM analytics_snapshots
    WHERE $1::timestamptz IS NULL OR generated_at >= $1
    ORDER BY generated_at DESC, id DESC LIMIT $2
  ) newest ORDER BY generated_at, id`;

/** Analytics snapshots in PostgreSQL: `period` and `generated_at` as columns, the figures as JSONB. */
export function postgresAnalytics({ query }: PostgresConnection): AnalyticsRepository {
  return {
    async insert({ period, generated_at, ...figures }) {
      await query('INSERT INTO analytics_snapshots (generated_at, period, data) VALUES ($1, $2, $3::jsonb)', [
        isoTime(generated_at, 'generated_at'),
        period,
        JSON.stringify(figures),
      ]);
    },
    async list(since, limit) {
      const { rows } = await query<{ generated_at: string; period: string; data: Figures }>(LIST, [
        since === undefined ? null : isoTime(since, 'since'),
        limit ?? null,
      ]);
      return rows.map(({ generated_at, period, data }) => ({ period, generated_at, ...data }));
    },
    async deleteBefore(cutoff) {
      return (await query('DELETE FROM analytics_snapshots WHERE generated_at < $1', [isoTime(cutoff, 'cutoff')])).rowCount ?? 0;
    },
  };
}
