import type { Operator, Rule } from './rule.ts';

/** The fields of a rule that decide whether a value breaches it or clears it. */
export type ThresholdRule = Pick<Rule, 'operator' | 'threshold' | 'clear_threshold'>;

/** `value <operator> threshold`. */
export function compare(value: number, operator: Operator, threshold: number): boolean {
  switch (operator) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '==':
      return value === threshold;
    case '!=':
      return value !== threshold;
  }
}

/** Whether `value` breaches the rule (starts a pending or firing alert). */
export function breaches(rule: ThresholdRule, value: number): boolean {
  return compare(value, rule.operator, rule.threshold);
}

/**
 * Whether `value` is past the clear threshold (hysteresis): no longer breaching the clear
 * threshold, which defaults to the threshold. `> 82` clearing at 78 resolves at 78 or below.
 */
export function clears(rule: ThresholdRule, value: number): boolean {
  return !compare(value, rule.operator, rule.clear_threshold ?? rule.threshold);
}
