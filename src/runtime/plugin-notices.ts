import { route, type NotificationDraft } from '../channels/routing.ts';
import { configuredChannels } from '../channels/open-channels.ts';
import { timeOrderedId } from '../storage/ids.ts';
import type { RuntimeContext, Wake } from './context.ts';

/**
 * A notification routed by severity to the configured channels, as a call that enqueues it and wakes
 * the notifier; calling it again (a retry) writes the same rows. `exclude` keeps a channel's own
 * failure alerts off that channel.
 */
export function createNoticeSender(deps: Pick<RuntimeContext, 'config' | 'store'> & { wake: Wake }) {
  const available = configuredChannels(deps.config);
  return (draft: NotificationDraft, exclude?: string): (() => Promise<void>) => {
    // The ids are given once, so enqueueing again after a failure whose commit did happen adds nothing.
    const rows = route(draft, available, { exclude }).map((row) => ({ ...row, id: timeOrderedId() }));
    return async () => {
      await deps.store.notifications.enqueue(rows);
      deps.wake();
    };
  };
}
