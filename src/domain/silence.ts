import type { Severity } from './rule.ts';

/** Where a silence stands at a moment: before `starts_at`, until `ends_at`, after. */
export type SilenceState = 'pending' | 'active' | 'expired';

/** Equality matchers; an absent (null) matcher matches anything. A silence with none matches every alert. */
export interface SilenceMatchers {
  rule_id: string | null;
  device_id: string | null;
  metric: string | null;
  severity: Severity | null;
}

/** An Alertmanager-style silence: while active, the notifications of matching alerts are not sent. */
export interface Silence extends SilenceMatchers {
  id: string;
  starts_at: string;
  ends_at: string;
  created_by: string;
  comment: string;
  created_at: string;
}

/** What a caller gives to create a silence. */
export type SilenceInput = Omit<Silence, 'id' | 'created_at'>;

/** What a notification says about the alert it is about, as silences match it. */
export interface AlertLabels {
  rule_id: string | null;
  device_id: string | null;
  metric: string | null;
  severity: string;
}

/** True when every matcher the silence sets equals the alert's label. */
export function silenceMatches(silence: SilenceMatchers, labels: AlertLabels): boolean {
  return (
    (silence.rule_id === null || silence.rule_id === labels.rule_id) &&
    (silence.device_id === null || silence.device_id === labels.device_id) &&
    (silence.metric === null || silence.metric === labels.metric) &&
    (silence.severity === null || silence.severity === labels.severity)
  );
}

/** The state of a silence at `nowMs`, from its times alone. */
export function silenceStateAt(silence: Pick<Silence, 'starts_at' | 'ends_at'>, nowMs: number): SilenceState {
  if (nowMs >= Date.parse(silence.ends_at)) return 'expired';
  return nowMs >= Date.parse(silence.starts_at) ? 'active' : 'pending';
}
