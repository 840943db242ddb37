/** A device reading as it arrives: the metric value is found in `value`, `json_value` or `metadata`. */
export interface ReadingInput {
  device_id: string | number;
  metric?: string;
  value?: number;
  json_value?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  ts?: string | number;
}

/** A reading once its metric value has been extracted: one number for one (device, metric). */
export interface Reading {
  device_id: string;
  metric: string;
  value: number;
  /** ISO-8601 time the reading was taken. */
  ts: string;
}
