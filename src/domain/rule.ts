/** Comparison operators a rule can use. */
export const OPERATORS = ['>', '>=', '<', '<=', '==', '!='] as const;
export type Operator = (typeof OPERATORS)[number];

/** Alert severities, lowest first. */
export const SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** A threshold rule over one metric of one device, as stored. */
export interface Rule {
  id: string;
  name: string;
  device_id: string;
  metric: string;
  operator: Operator;
  threshold: number;
  /** How long a breach must hold before the rule fires (0: at once). */
  for_seconds: number;
  /** Hysteresis: while firing, the value must pass this to resolve (null: `threshold`). */
  clear_threshold: number | null;
  /** How long a rule keeps firing after its value cleared. */
  keep_firing_for_seconds: number;
  /** No reading for this long puts the rule in `nodata` (null: never). */
  nodata_seconds: number | null;
  severity: Severity;
  channels: string[];
  enabled: boolean;
  created_at: string;
  updated_at: string;
}

/** What a caller gives to create a rule: the stored fields less the ones Vigil sets. */
export type RuleInput = Omit<Rule, 'id' | 'created_at' | 'updated_at'> & { id?: string };

/** A partial update of a rule. */
export type RulePatch = Partial<Omit<Rule, 'id' | 'created_at' | 'updated_at'>>;
