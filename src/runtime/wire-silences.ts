import { notificationRoutes } from '../http/routes/notifications.ts';
import { silenceRoutes } from '../http/routes/silences.ts';
import type { Concern } from './concern.ts';
import type { RuntimeContext } from './context.ts';
import { createSilences, type Silences } from './silences.ts';

/**
 * Silences and the notification log: `/silences` and `GET /notifications`, and the silence actors,
 * restored from the store at start. The notifier screens its claims through `silences`.
 */
export function wireSilences(ctx: RuntimeContext): { concern: Concern; silences: Silences } {
  const silences = createSilences(ctx);
  ctx.routes.push(silenceRoutes(silences), notificationRoutes);
  return {
    silences,
    concern: {
      name: 'silences',
      start: () => silences.load(),
      stop: async () => silences.stop(),
    },
  };
}
