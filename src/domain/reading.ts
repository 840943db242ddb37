/** A reading once its metric value has been extracted: one number for one (device, metric). */
export interface Reading {
  device_id: string;
  metric: string;
  value: number;
  /** ISO-8601 time the reading was taken. */
  ts: string;
}
