import { z } from 'zod';
import { SEVERITIES } from './rule.ts';
import { isoTimeSchema } from './time-schema.ts';

/** The longest silence: a year, as for rule durations. */
export const MAX_SILENCE_MS = 31_536_000_000;

const matcher = (what: string) =>
  z.string().trim().min(1).max(200).nullable().optional().describe(`Silences only alerts whose ${what} equals this (absent: any)`);

/** `POST /silences`: matchers (each optional, equality), a time window and who set it, why. */
export const silenceInputSchema = z
  .object({
    rule_id: matcher('rule id'),
    device_id: z
      .union([z.string().trim().min(1).max(200), z.number().finite()])
      .transform(String)
      .nullable()
      .optional()
      .describe('Silences only alerts of this device (absent: any)'),
    metric: matcher('metric'),
    severity: z.enum(SEVERITIES).nullable().optional().describe('Silences only alerts of this severity (absent: any)'),
    starts_at: isoTimeSchema.optional().describe('When the silence begins (default: now)'),
    ends_at: isoTimeSchema.describe('When the silence ends; after starts_at, at most a year later'),
    created_by: z.string().trim().min(1, 'must name who sets the silence').max(200),
    comment: z.string().trim().min(1, 'must say why the alerts are silenced').max(2_000),
  })
  .strict()
  .transform((input, ctx) => {
    const startsMs = input.starts_at === undefined ? Date.now() : Date.parse(input.starts_at);
    const endsMs = Date.parse(input.ends_at);
    if (endsMs <= startsMs) ctx.addIssue({ code: 'custom', path: ['ends_at'], message: 'must be after starts_at (or after now when starts_at is absent)' });
    else if (endsMs - startsMs > MAX_SILENCE_MS) ctx.addIssue({ code: 'custom', path: ['ends_at'], message: 'must be at most a year after starts_at' });
    return {
      rule_id: input.rule_id ?? null,
      device_id: input.device_id ?? null,
      metric: input.metric ?? null,
      severity: input.severity ?? null,
      starts_at: new Date(startsMs).toISOString(),
      ends_at: new Date(endsMs).toISOString(),
      created_by: input.created_by,
      comment: input.comment,
    };
  });

/** A silence as the API returns it: its fields and its state now. */
export const silenceSchema = z.object({
  id: z.string(),
  rule_id: z.string().nullable(),
  device_id: z.string().nullable(),
  metric: z.string().nullable(),
  severity: z.enum(SEVERITIES).nullable(),
  starts_at: z.string(),
  ends_at: z.string(),
  created_by: z.string(),
  comment: z.string(),
  created_at: z.string(),
  state: z.enum(['pending', 'active', 'expired']),
});
