import { route, type NotificationDraft } from '../channels/routing.ts';
import { configuredChannels } from '../channels/open-channels.ts';
import type { RuntimeContext } from './context.ts';
import { wakeNotifier } from './wire-notifier.ts';

/**
 * Enqueues a notification routed by severity to the configured channels and wakes the notifier.
 * `exclude` keeps a channel's own failure alerts off that channel.
 */
export function createNoticeSender(ctx: Pick<RuntimeContext, 'config' | 'store' | 'registry' | 'logger'>) {
  const available = configuredChannels(ctx.config);
  return async (draft: NotificationDraft, exclude?: string): Promise<void> => {
    await ctx.store.notifications.enqueue(route(draft, available, { exclude }));
    wakeNotifier(ctx.registry);
  };
}
