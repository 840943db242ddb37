import type { RuntimeContext } from '../runtime/context.ts';
import type { ApiDocs } from './api-docs.ts';
import type { HotReads } from './hot-reads.ts';
import type { SseHub } from './sse-hub.ts';

/** What the HTTP routes read from the runtime. */
export interface HttpDeps extends RuntimeContext {
  sse: SseHub;
  /** Every route documents itself here (method, path, schemas) for `GET /openapi.json`. */
  docs: ApiDocs;
  /** The hot read routes, answered by the fast path too (see fast-path.ts). */
  hotReads: HotReads;
  /** Whether the runtime has started (readiness). */
  isStarted(): boolean;
  /** The subscriber's buffer, oldest first. */
  messages(): unknown[];
}
