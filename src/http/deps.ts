import type { RuntimeContext } from '../runtime/context.ts';
import type { ApiDocs } from './api-docs.ts';
import type { SseHub } from './sse-hub.ts';

/** What the HTTP routes read from the runtime. */
export interface HttpDeps extends RuntimeContext {
  sse: SseHub;
  /** Every route documents itself here (method, path, schemas) for `GET /openapi.json`. */
  docs: ApiDocs;
  /** Whether the runtime has started (readiness). */
  isStarted(): boolean;
  /** The subscriber's buffer, oldest first. */
  messages(): unknown[];
}
