import { route, type NotificationDraft } from '../channels/routing.ts';
import { configuredChannels } from '../channels/open-channels.ts';
import type { RuntimeContext, Wake } from './context.ts';

/**
 * Enqueues a notification routed by severity to the configured channels and wakes the notifier.
 * `exclude` keeps a channel's own failure alerts off that channel.
 */
export function createNoticeSender(deps: Pick<RuntimeContext, 'config' | 'store'> & { wake: Wake }) {
  const available = configuredChannels(deps.config);
  return async (draft: NotificationDraft, exclude?: string): Promise<void> => {
    await deps.store.notifications.enqueue(route(draft, available, { exclude }));
    deps.wake();
  };
}
