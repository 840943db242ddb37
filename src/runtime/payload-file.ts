import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.ts';

const FIELD = 'PAYLOAD_FILE_PATH';

/** The propagator's payloads: a JSON array of one or more objects; anything else is a ConfigError naming PAYLOAD_FILE_PATH. */
export function loadPayloads(path: string): Record<string, unknown>[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${FIELD}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); point it at a JSON file`, FIELD);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${FIELD}: ${path} is not valid JSON (${(error as Error).message})`, FIELD);
  }
  if (!Array.isArray(data)) throw new ConfigError(`${FIELD}: ${path} must hold a JSON array of objects, got ${typeof data}`, FIELD);
  if (data.length === 0) throw new ConfigError(`${FIELD}: ${path} holds an empty array; add at least one payload object`, FIELD);
  const bad = data.findIndex((item) => item === null || typeof item !== 'object' || Array.isArray(item));
  if (bad >= 0) throw new ConfigError(`${FIELD}: ${path} item ${bad} is not a JSON object`, FIELD);
  return data as Record<string, unknown>[];
}
