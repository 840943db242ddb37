import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ruleInputSchema, rulePatchSchema } from '../../src/domain/rule-schema.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
/** The README's rule table rows, by field (`operator`, `threshold` share one row). */
function readmeRows(): Map<string, string> {
  const section = readme.slice(readme.indexOf('## Alert rules'), readme.indexOf('**Evaluations.**'));
  const rows = new Map<string, string>();
  for (const line of section.split('\n').filter((l) => l.startsWith('| `'))) {
    const [names] = line.slice(1).split(' | ');
    for (const name of names!.matchAll(/`([a-z_]+)`/g)) rows.set(name[1]!, line);
  }
  return rows;
}

describe('rule fields: schema, OpenAPI and README agree', () => {
  it('every field has a meaning in the OpenAPI schema, and a README row with the same default', () => {
    const schema = z.toJSONSchema(ruleInputSchema, { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, { description?: string; default?: unknown }> };
    const patch = z.toJSONSchema(rulePatchSchema, { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, { description?: string }> };
    const rows = readmeRows();
    for (const [field, property] of Object.entries(schema.properties)) {
      expect(rows.get(field), field).toBeDefined();
      if (field === 'id') continue;
      expect(property.description, field).toEqual(expect.any(String));
      expect(patch.properties[field]?.description, field).toBe(property.description);
      if ('default' in property) expect(rows.get(field)!.split(' | ')[1], field).toContain(`\`${typeof property.default === 'string' ? property.default : JSON.stringify(property.default)}\``);
    }
    expect([...rows.keys()].sort()).toEqual(Object.keys(schema.properties).sort());
  });

  it('a rule without channels is routed by severity: the default is none', () => {
    expect(ruleInputSchema.parse({ name: 'n', device_id: 1, metric: 'm', operator: '>', threshold: 1 }).channels).toEqual([]);
  });
});
