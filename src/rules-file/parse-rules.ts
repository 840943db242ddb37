import { ValidationError } from '../errors.ts';
import { parseRulesList, type FileRule } from './rules-list.ts';

export type { FileRule };

/**
 * The rules of a rules file (the `vigil test rules` format, parsed from YAML or JSON): a mapping whose
 * `rules:` list is checked rule by rule as `POST /rules` checks it, `id` required and unique. Throws one
 * ValidationError listing every problem, each naming its field (`rules[3].threshold`).
 */
export function parseRulesFile(doc: unknown): FileRule[] {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ValidationError([{ path: 'rules', message: 'the file must be a mapping with a `rules:` list' }]);
  }
  const list = (doc as { rules?: unknown }).rules;
  if (!Array.isArray(list)) throw new ValidationError([{ path: 'rules', message: 'must be a list of rules (`rules:` followed by `- id: …` items)' }]);
  return parseRulesList(list);
}
