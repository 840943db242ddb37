import { z } from 'zod';

/** The most readings one `POST /readings` may carry. */
export const READINGS_BATCH_LIMIT = 1_000;

/** One reading as it arrives, over HTTP or on the `device-readings` topic. */
export const readingInputSchema = z.object({
  device_id: z.union([z.string().trim().min(1).max(200), z.number().finite()]),
  metric: z.string().trim().min(1).max(200).optional(),
  value: z.number().finite().optional(),
  json_value: z.record(z.string(), z.unknown()).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  ts: z.union([z.string().min(1).max(64), z.number().finite()]).optional(),
});

/** `POST /readings`: one reading or an array of up to READINGS_BATCH_LIMIT (each item is checked on its own). */
export const readingsBodySchema = z.union([readingInputSchema, z.array(readingInputSchema).min(1).max(READINGS_BATCH_LIMIT)]);
