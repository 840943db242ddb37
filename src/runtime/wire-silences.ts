import type { Concern } from './concern.ts';
import type { RuntimeContext } from './context.ts';
import { createSilences, type Silences } from './silences.ts';

/** The silences concern: the silence actors, restored from the store at start, and `silences`, which the notifier and `/silences` use. */
export interface SilencesConcern extends Concern {
  silences: Silences;
}

/** Silences: their actors are created from the store at start and stopped at stop; the notifier screens its claims through them. */
export function silencesConcern(ctx: Pick<RuntimeContext, 'store' | 'registry' | 'metrics' | 'logger' | 'inspect'>): SilencesConcern {
  const silences = createSilences(ctx);
  return {
    name: 'silences',
    silences,
    start: () => silences.load(),
    stop: async () => silences.stop(),
  };
}
